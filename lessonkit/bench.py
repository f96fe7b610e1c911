"""Benchmarks that print figures (the machines are shared and noisy: no timed tests).

    python -m lessonkit.bench deploy    # what deployment buys: Python eager / TorchScript / C++ latency
    python -m lessonkit.bench graphs    # how long graph_of / draw_graph / PNG take for real models
    python -m lessonkit.bench lessons   # how long each lesson takes, run top to bottom in a fresh kernel

`make bench` runs all three.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

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


def _python_latency(fn: Callable[[Any], object], x: Any, repeat: int, budget: float) -> list[float]:
    """Milliseconds per call after warm-up; fewer repeats for slow calls, so a run stays within `budget` seconds."""
    import torch

    with torch.inference_mode():
        for _ in range(3):
            fn(x)
        single = _times(lambda: fn(x), 1)[0]
        n = max(5, min(repeat, int(budget / max(single, 1e-6))))
        return [t * 1000 for t in _times(lambda: fn(x), n)]


def bench_deploy(
    repeat: int = 50, threads: int | None = None, budget: float = 3.0, out_dir: Path | None = None, models: Sequence[str] = ("capstone", "resnet18")
) -> list[dict[str, object]]:
    """Per-call latency of the capstone model and resnet18, batch 1 and 32, in Python and C++.

    Variants: Python eager, Python TorchScript (scripted, traced, frozen) and C++ TorchScript
    (run_model --repeat on the scripted file). Weights are random: speed does not depend on them.
    """
    import tempfile

    import torch
    import torchvision

    from . import cpp
    from .capstone import PIXEL_MAX, DigitsCNN
    from .deprecation import quiet_torchscript_deprecation

    threads = threads or min(2, os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cpp.build(quiet=True)
    unknown = set(models) - {"capstone", "resnet18"}
    if unknown:
        raise ValueError(f"unknown models {sorted(unknown)}: choose from 'capstone' and 'resnet18'")
    chosen = {}
    if "capstone" in models:
        chosen["capstone DigitsCNN"] = (DigitsCNN().eval(), (1, 8, 8))
    if "resnet18" in models:
        chosen["resnet18"] = (torchvision.models.resnet18(weights=None).eval(), (3, 224, 224))
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="lessonkit-bench-") as tmp, quiet_torchscript_deprecation():
        for name, (model, shape) in chosen.items():
            for batch in (1, 32):
                x = torch.rand(batch, *shape) * (PIXEL_MAX if name.startswith("capstone") else 1)
                scripted = torch.jit.script(model)
                variants = {
                    "Python eager": model,
                    "Python scripted": scripted,
                    "Python traced": torch.jit.trace(model, x),
                    "Python frozen": torch.jit.freeze(torch.jit.script(model)),
                }
                for variant, fn in variants.items():
                    ms = sorted(_python_latency(fn, x, repeat, budget))
                    rows.append(_row(name, batch, variant, ms[len(ms) // 2], ms[len(ms) // 4], ms[(3 * len(ms)) // 4], len(ms)))
                path = Path(tmp) / "model.pt"
                scripted.save(str(path))
                n = max(5, min(repeat, int(budget * 1000 / max(rows[-4]["median_ms"], 1e-3))))  # type: ignore[arg-type]
                timing = cpp.latency(path, x, repeat=n, threads=threads)
                rows.append(_row(name, batch, "C++ scripted", timing.median, timing.p25, timing.p75, n))
                print(f"  measured {name}, batch {batch}", flush=True)
    if out_dir is not None:
        _deploy_chart(rows, threads, out_dir / "bench_deploy.png")
    return rows


def _row(model: str, batch: int, variant: str, median: float, p25: float, p75: float, calls: int) -> dict[str, object]:
    return {"model": model, "batch": batch, "variant": variant, "median_ms": median, "p25_ms": p25, "p75_ms": p75, "calls": calls}


def _deploy_chart(rows: list[dict[str, object]], threads: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys((r["model"], r["batch"]) for r in rows))
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 3.8))
    colours = ["#92c5de", "#f4a582", "#fddbc7", "#d1e5f0", "#b8e186"]
    for ax, (model, batch) in zip(axes, groups):
        part = [r for r in rows if r["model"] == model and r["batch"] == batch]
        medians = [float(r["median_ms"]) for r in part]  # type: ignore[arg-type]
        errors = [[m - float(r["p25_ms"]) for m, r in zip(medians, part)], [float(r["p75_ms"]) - m for m, r in zip(medians, part)]]  # type: ignore[arg-type]
        ax.bar(range(len(part)), medians, yerr=errors, color=colours[: len(part)], capsize=3)
        ax.set_xticks(range(len(part)), [str(r["variant"]).replace(" ", "\n", 1) for r in part], fontsize=7)
        ax.set_title(f"{model}, batch {batch}", fontsize=9)
        ax.set_ylabel("ms per call (median, bars: quartiles)", fontsize=7)
    fig.suptitle(f"What deployment buys: latency per call, {threads} threads", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


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
    parser.add_argument("what", choices=["deploy", "graphs", "lessons", "all"], nargs="?", default="all")
    parser.add_argument("--threads", type=int, default=None, help="threads for PyTorch and run_model (default: 2, or 1 on one core)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per graph measurement (median is shown)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.what in ("deploy", "all"):
        out_dir = NOTEBOOKS / "artifacts"
        rows = bench_deploy(args.repeat if args.repeat > 3 else 50, args.threads, out_dir=out_dir)
        print(f"\nwhat deployment buys: ms per call, median [quartiles], {torch.get_num_threads()} threads")
        print(f"{'model':<20} {'batch':>5}  {'variant':<16} {'median':>9} {'p25-p75':>17} {'vs eager':>9}")
        for r in rows:
            eager = next(e["median_ms"] for e in rows if e["model"] == r["model"] and e["batch"] == r["batch"] and e["variant"] == "Python eager")
            print(
                f"{r['model']:<20} {r['batch']:>5}  {r['variant']:<16} {r['median_ms']:>9.3f} "
                f"{r['p25_ms']:>8.3f}-{r['p75_ms']:<8.3f} {eager / r['median_ms']:>8.2f}x"  # type: ignore[operator]
            )
        print(f"chart: {out_dir / 'bench_deploy.png'}")
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
