"""Draw the course's diagrams into images/. Run with `make images`.

Every picture a lesson's markdown shows (`../images/NAME.png`) is made here, so an
instructor can change a label and redraw it. The output is deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a script, not a notebook: draw without a screen
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

PYTHON_BLUE, CONVERT_ORANGE, CPP_GREEN = "#dbe9f6", "#fde3c8", "#d9f0d3"


def _box(ax, x: float, y: float, text: str, colour: str, w: float = 1.7, h: float = 0.8) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=colour, ec="#333333", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=10.5)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], label: str = "") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16, lw=1.4, color="#333333"))
    if label:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.12, label, ha="center", fontsize=9, style="italic")


def workflow(path: Path) -> None:
    """The deployment workflow: develop, tune, train, test, convert, save, load in C++."""
    fig, ax = plt.subplots(figsize=(11, 4.2))
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 4.2)
    ax.axis("off")

    steps = ["develop\nthe model", "set hyper-\nparameters", "train", "test"]
    xs = [1.1, 3.3, 5.5, 7.7]
    ax.text(0.2, 3.85, "Python (research, eager mode)", fontsize=11, weight="bold", color="#1f4e79")
    for x, step in zip(xs, steps):
        _box(ax, x, 3.1, step, PYTHON_BLUE)
    for a, b in zip(xs, xs[1:]):
        _arrow(ax, (a + 0.9, 3.1), (b - 0.9, 3.1))

    # Convert, two ways, then save.
    _box(ax, 9.9, 3.1, "convert to\nTorchScript", CONVERT_ORANGE)
    _arrow(ax, (8.6, 3.1), (9.0, 3.1))
    ax.text(9.9, 2.45, "trace: torch.jit.trace\nannotate: torch.jit.script", ha="center", va="top", fontsize=8.5)
    _box(ax, 9.9, 1.0, "save\nmodel.pt", CONVERT_ORANGE)
    _arrow(ax, (9.9, 1.95), (9.9, 1.45))

    ax.text(0.2, 1.75, "C++ (production, no Python)", fontsize=11, weight="bold", color="#2d6a2d")
    _box(ax, 7.1, 1.0, "load\ntorch::jit::load", CPP_GREEN, w=2.0)
    _box(ax, 4.5, 1.0, "run forward\nInferenceMode", CPP_GREEN, w=2.0)
    _box(ax, 1.9, 1.0, "serve results\nservice, device", CPP_GREEN, w=2.0)
    _arrow(ax, (9.0, 1.0), (8.15, 1.0), "file")
    _arrow(ax, (6.05, 1.0), (5.55, 1.0))
    _arrow(ax, (3.45, 1.0), (2.95, 1.0))

    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


PICTURES = {"workflow.png": workflow}


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, draw in PICTURES.items():
        draw(out_dir / name)
        print(f"wrote {out_dir / name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
