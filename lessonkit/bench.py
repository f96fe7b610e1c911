"""Benchmarks that print figures (the machines are shared and noisy: no timed tests).

    python -m lessonkit.bench graphs    # how long graph_of / draw_graph / PNG take for real models
    python -m lessonkit.bench lessons   # how long each lesson takes, run top to bottom in a fresh kernel

`make bench` runs both.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _times(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def bench_graphs(repeat: int = 3) -> list[tuple[str, int, float, float, float]]:
    """(model, drawn nodes, graph_of s, draw_graph s, PNG s) medians for torchvision models."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch
    import torchvision

    from .deprecation import quiet_torchscript_deprecation
    from .graph import draw_graph, graph_of

    torch.manual_seed(0)
    resnet = torchvision.models.resnet18(weights=None).eval()
    mobilenet = torchvision.models.mobilenet_v3_small(weights=None).eval()
    example = torch.randn(1, 3, 224, 224)
    with quiet_torchscript_deprecation():
        models = {
            "resnet18, traced": torch.jit.trace(resnet, example),
            "resnet18, scripted": torch.jit.script(resnet),
            "mobilenet_v3_small, traced": torch.jit.trace(mobilenet, example),
        }
    draw_graph(models["resnet18, traced"])  # the first call imports pyplot: not what we measure
    plt.close("all")
    rows = []
    for name, module in models.items():
        nodes = len(graph_of(module).nodes)
        t_graph = statistics.median(_times(lambda: graph_of(module), repeat))
        figures = []
        t_draw = statistics.median(_times(lambda: figures.append(draw_graph(module)), repeat))

        def render() -> None:
            figures[-1].savefig(io.BytesIO(), format="png", dpi=72)

        t_png = statistics.median(_times(render, repeat))
        plt.close("all")
        rows.append((name, nodes, t_graph, t_draw, t_png))
    return rows


def bench_lessons(paths: list[Path] | None = None) -> list[tuple[str, float]]:
    """Run each lesson top to bottom in a fresh kernel (not in place) and time it."""
    import nbclient
    import nbformat

    rows = []
    for path in paths or sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        rows.append((path.name, time.perf_counter() - start))
        print(f"  ran {path.name} in {rows[-1][1]:.1f} s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lessonkit.bench", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["graphs", "lessons", "all"], nargs="?", default="all")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per graph measurement (median is shown)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.what in ("graphs", "all"):
        print(f"\ndraw_graph for torchvision models (median of {args.repeat}; target for resnet18: under 3 s)")
        print(f"{'model':<28} {'nodes':>5} {'graph_of':>9} {'draw_graph':>11} {'PNG 72 dpi':>11} {'total':>7}")
        for name, nodes, t_graph, t_draw, t_png in bench_graphs(args.repeat):
            print(f"{name:<28} {nodes:>5} {t_graph:>8.2f}s {t_draw:>10.2f}s {t_png:>10.2f}s {t_draw + t_png:>6.2f}s")
    if args.what in ("lessons", "all"):
        print("\nlessons, each top to bottom in a fresh kernel")
        rows = bench_lessons()
        print(f"{'lesson':<32} {'seconds':>8}")
        for name, seconds in rows:
            print(f"{name:<32} {seconds:>8.1f}")
        print(f"{'all lessons':<32} {sum(s for _, s in rows):>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
