"""Checkers for the lessons' exercises.

Each `check_*` function runs the student's answer for real (traces it, scripts it,
compares it with what it should compute) and either prints what was achieved or
raises `ExerciseError` with a hint aimed at the mistake it found.
"""

from __future__ import annotations

from pathlib import Path
import torch
from torch import nn

from .crosscheck import crosscheck
from .graph import graph_of
from .tracing import trace_report


class ExerciseError(AssertionError):
    """The answer is not right yet; the message says what to change."""


def _passed(message: str) -> None:
    print(f"Correct! {message}")


def _traced(model: nn.Module, example: torch.Tensor) -> tuple[torch.jit.ScriptModule, set[str]]:
    """Trace through trace_report (so the warnings are shown); return the trace and the problem kinds."""
    try:
        report = trace_report(model, example)
    except Exception as exc:
        raise ExerciseError(f"torch.jit.trace failed on your model: {type(exc).__name__}: {exc}") from exc
    assert report.traced is not None  # without check inputs, trace_report either traces or raises
    return report.traced, {p.kind for p in report.problems}


def _require_module(model: object, what: str) -> nn.Module:
    if isinstance(model, type) and issubclass(model, nn.Module):
        raise ExerciseError(f"pass an instance, e.g. {model.__name__}(), not the class itself")
    if not isinstance(model, nn.Module):
        raise ExerciseError(f"expected {what} (an nn.Module), got {type(model).__name__}")
    return model


def sign_gate_reference(x: torch.Tensor) -> torch.Tensor:
    """What the SignGate of lesson 01 computes: 2x if x sums to more than 0, else x - 1."""
    return x * 2 if x.sum() > 0 else x - 1


def check_sign_gate(model: nn.Module) -> None:
    """Lesson 01: a SignGate whose single trace is right for both signs of the input."""
    model = _require_module(model, "your SignGate")
    if isinstance(model, torch.jit.ScriptModule):
        raise ExerciseError("pass the eager SignGate(): the checker traces it itself, with a positive example")
    traced, problems = _traced(model, torch.ones(2, 3))
    if "data-dependent control flow" in problems:
        raise ExerciseError(
            "forward still turns a tensor into a Python bool (an `if` on a tensor), so tracing recorded one branch. "
            "Compute both results and choose with torch.where(x.sum() > 0, x * 2, x - 1)."
        )
    cases = [torch.ones(2, 3), -torch.ones(2, 3), torch.zeros(2, 3), torch.randn(4, 5) + 3, torch.randn(4, 5) - 3]
    eager = crosscheck(sign_gate_reference, {"your model": model}, cases)
    if not eager.ok:
        bad = eager.failures()[0]
        raise ExerciseError(
            f"your model computes something else than the SignGate even before tracing (input {bad.input_index}: "
            f"{bad.error}); it must return x * 2 when x.sum() > 0 and x - 1 otherwise"
        )
    report = crosscheck(sign_gate_reference, {"trace": traced}, cases)
    if not report.ok:
        bad = report.failures()[0]
        raise ExerciseError(f"the trace is wrong on input {bad.input_index} ({bad.error}): is some value still fixed at trace time?")
    _passed(f"one trace, made with a positive example, is right on all {len(cases)} inputs, negative sums included.")


def check_any_batch_size(model: nn.Module) -> None:
    """Lesson 01: a model whose trace (made with batch 2) works for any batch size."""
    model = _require_module(model, "your model")
    model.eval()
    traced, problems = _traced(model, torch.randn(2, 3, 4))
    if "Python number taken from a tensor" in problems:
        raise ExerciseError(
            "forward still turns a size into a Python int (e.g. int(x.shape[0])), which the trace stores as a constant. "
            "Let the shape stay symbolic: x.flatten(1), or x.view(x.size(0), -1), or -1 for the batch dimension."
        )
    batches = [torch.randn(n, 3, 4) for n in (1, 2, 5, 16)]
    for batch in batches:
        try:
            with torch.no_grad():
                model(batch)
        except Exception as exc:
            raise ExerciseError(
                f"your model fails on a batch of {batch.shape[0]} even before tracing ({exc}): "
                "is a batch size written into forward?"
            ) from exc
    report = crosscheck(model, {"trace": traced}, batches)
    if not report.ok:
        bad = report.failures()[0]
        n = batches[bad.input_index].shape[0]
        raise ExerciseError(f"the trace fails for a batch of {n}: {bad.error}. Is the batch size still fixed somewhere in forward?")
    outputs = [traced(b).shape for b in batches]
    if any(shape[0] != b.shape[0] for shape, b in zip(outputs, batches)):
        raise ExerciseError(f"the output should have one row per sample; got shapes {[tuple(s) for s in outputs]}")
    _passed("the trace made with a batch of 2 gives the eager answers for batches of 1, 2, 5 and 16.")


def halve_until_small_reference(x: torch.Tensor) -> torch.Tensor:
    """What HalveUntilSmall of lesson 02 computes: halve x until its norm is at most 1."""
    while x.norm() > 1:
        x = x / 2
    return x


def check_halve_until_small(scripted: object) -> None:
    """Lesson 02: a scripted module whose loop runs as many times as each input needs."""
    if isinstance(scripted, torch.jit.TopLevelTracedModule):
        raise ExerciseError("this is a trace: tracing unrolled the loop for the example input. Use torch.jit.script(HalveUntilSmall()).")
    if not isinstance(scripted, torch.jit.ScriptModule):
        what = type(scripted).__name__
        raise ExerciseError(f"expected the scripted module, got {what}: pass torch.jit.script(HalveUntilSmall())")
    if "prim::Loop" not in graph_of(scripted).kinds():
        raise ExerciseError("the scripted graph has no prim::Loop: write the loop as `while x.norm() > 1:` inside forward")
    cases = [torch.full((3,), 0.1), torch.full((3,), 5.0), torch.full((2, 2), 300.0), torch.randn(10) * 1000]
    report = crosscheck(halve_until_small_reference, {"yours": scripted}, cases)
    if not report.ok:
        bad = report.failures()[0]
        raise ExerciseError(f"wrong result for input {bad.input_index} ({bad.error}): halve while the norm is greater than 1, then return x")
    rounds = [int(torch.ceil(torch.log2(x.norm())).clamp(min=0)) for x in cases]
    _passed(f"the scripted loop ran {rounds} times for these inputs, as each needs, and matches Python on all of them.")


def check_scriptable_classifier(scripted: object, eager: nn.Module) -> None:
    """Lesson 02: a classifier that scripts, with an exported `predict` returning class indices."""
    _require_module(eager, "your eager classifier")
    if not isinstance(scripted, torch.jit.ScriptModule):
        raise ExerciseError(f"expected torch.jit.script(model), got {type(scripted).__name__}")
    if not hasattr(scripted, "predict"):
        raise ExerciseError(
            "the scripted module has no `predict`: scripting compiles forward and what it calls; "
            "decorate predict with @torch.jit.export to compile it too"
        )
    inputs = [torch.randn(n, 4) for n in (1, 3, 8)]
    logits = crosscheck(eager, {"scripted forward": scripted}, inputs)
    if not logits.ok:
        raise ExerciseError(f"scripted forward differs from the eager one: {logits.failures()[0].error}")
    classes = crosscheck(lambda x: eager(x).argmax(dim=1), {"scripted predict": scripted.predict}, inputs)
    if not classes.ok:
        raise ExerciseError(f"predict should return forward(x).argmax(dim=1), the class index of each row: {classes.failures()[0].error}")
    _passed("forward compiles without lambdas or **kwargs, and predict is exported and returns class indices.")



def check_saved_with_metadata(path: str | Path, class_names: list[str]) -> None:
    """Lesson 03: a TorchScript file carrying classes.txt and input_shape.txt as extra files."""
    path = Path(path)
    if not path.is_file():
        raise ExerciseError(f"there is no file {path}: save the scripted module with scripted.save('{path}', _extra_files=...)")
    files = {"classes.txt": "", "input_shape.txt": ""}
    try:
        loaded = torch.jit.load(str(path), _extra_files=files)
    except RuntimeError as exc:
        if "constants.pkl" in str(exc):
            raise ExerciseError("this file is a torch.save() pickle, which C++ cannot load: save the scripted module with .save() or torch.jit.save") from exc
        raise ExerciseError(f"torch.jit.load cannot read {path}: {str(exc).splitlines()[0]}") from exc
    # torch.jit.load fills in bytes.
    text = {name: value.decode() if isinstance(value, bytes) else value for name, value in files.items()}
    for name, content in text.items():
        if not content:
            raise ExerciseError(f"the archive has no extra file {name}: pass _extra_files={{'{name}': ...}} to save()")
    saved = text["classes.txt"].strip().splitlines()
    if saved != list(class_names):
        raise ExerciseError(f"classes.txt should hold the class names one per line, in order: got {saved[:4]}...")
    try:
        shape = [int(part) for part in text["input_shape.txt"].strip().split(",")]
    except ValueError as exc:
        raise ExerciseError(f"input_shape.txt should be comma-separated whole numbers like 1,1,8,8; got {text['input_shape.txt']!r}") from exc
    with torch.no_grad():
        try:
            out = loaded(torch.randn(shape))
        except RuntimeError as exc:
            raise ExerciseError(f"the model does not accept an input of the saved shape {shape}: {str(exc).splitlines()[-1]}") from exc
    if out.shape[-1] != len(class_names):
        raise ExerciseError(f"the model gives {out.shape[-1]} scores per input but classes.txt names {len(class_names)} classes")
    _passed(f"a TorchScript archive with {len(saved)} class names and the input shape {shape}, which the model accepts.")


def check_frozen(frozen: object, eager: nn.Module, example: torch.Tensor) -> None:
    """Lesson 03: a frozen module: weights folded in as constants, the same outputs as eager."""
    if not isinstance(frozen, torch.jit.ScriptModule):
        raise ExerciseError(f"expected a frozen ScriptModule, got {type(frozen).__name__}: torch.jit.freeze(torch.jit.script(model.eval()))")
    kinds = graph_of(frozen, hide_constants=False).kinds()
    if "prim::GetAttr" in kinds:
        raise ExerciseError("the graph still reads its weights as attributes (prim::GetAttr): pass the scripted module through torch.jit.freeze")
    if "aten::dropout" in kinds:
        raise ExerciseError("dropout is still in the graph: call .eval() on the model before scripting and freezing it")
    report = crosscheck(eager.eval(), {"frozen": frozen}, [example, torch.randn_like(example)])
    if not report.ok:
        raise ExerciseError(f"the frozen module gives other outputs than the eager model: {report.failures()[0].error}")
    ops = len(graph_of(frozen).kinds())
    _passed(f"frozen: {ops} ops, no attribute reads, and the same outputs as the eager model (to float precision).")


def check_runs_in_cpp(path: str | Path, eager: nn.Module, inputs: list[torch.Tensor]) -> None:
    """Lesson 04: the saved model gives the eager model's outputs in C++, on every input."""
    from . import cpp

    path = Path(path)
    if not path.is_file():
        raise ExerciseError(f"there is no file {path}: save the traced or scripted model there first")
    candidate = cpp.candidate(path)
    report = crosscheck(eager.eval(), {"C++": candidate}, inputs)
    if report.ok:
        sizes = sorted({int(x.shape[0]) for x in inputs})
        _passed(f"run_model gives the eager outputs on all {len(inputs)} inputs (batch sizes {sizes}).")
        return
    bad = report.failures()[0]
    if bad.error and "pickle" in bad.error:
        raise ExerciseError("C++ cannot load a torch.save() pickle: save the traced or scripted module with .save(path)")
    passed_sizes = sorted({int(inputs[r.input_index].shape[0]) for r in report.rows if r.passed})
    failed_size = int(inputs[bad.input_index].shape[0])
    if passed_sizes:
        raise ExerciseError(
            f"C++ is right for batch sizes {passed_sizes} but not {failed_size} ({bad.error}): a size was frozen into the trace. "
            "Keep sizes symbolic (x.flatten(1), x.size(0)) and trace again, or script the model."
        )
    raise ExerciseError(f"C++ differs from the eager model on input {bad.input_index}: {bad.error}")


def check_any_batch_in_cpp(path: str | Path, eager: nn.Module, batches: list[torch.Tensor]) -> None:
    """Lesson 05: evidence that the saved model takes any batch size in C++ (three sizes or more, one of them 1)."""
    sizes = sorted({int(b.shape[0]) for b in batches}) if batches else []
    if len(sizes) < 3 or 1 not in sizes:
        raise ExerciseError(f"use at least three different batch sizes, one of them 1 (a single image); you used {sizes}")
    check_runs_in_cpp(path, eager, batches)


def check_class_names_in_cpp(path: str | Path, names: list[str], images: torch.Tensor) -> None:
    """Lesson 05: the classify app prints the class names saved in the archive, for the right classes."""
    import re
    import tempfile

    from . import cpp

    with tempfile.TemporaryDirectory(prefix="lessonkit-names-") as tmp:
        images_file = Path(tmp) / "images.pt"
        torch.save(images, images_file)
        try:
            stdout = cpp.run_program([path, "--tensor", images_file], name="classify")
        except cpp.CppRunError as exc:
            raise ExerciseError(f"classify failed: {exc}") from exc
    printed = re.findall(r"\]: (.+?)  \(", stdout)
    if len(printed) != len(images):
        raise ExerciseError(f"classify printed {len(printed)} predictions for {len(images)} images:\n{stdout}")
    with torch.no_grad():
        expected = [names[int(i)] for i in torch.jit.load(str(path))(images).argmax(1)]
    if printed != expected:
        if all(p.isdigit() for p in printed):
            raise ExerciseError("classify printed digits, not your names: save classes.txt with one of your names per line")
        raise ExerciseError(f"classify printed {printed[:5]}..., expected {expected[:5]}...: are the names in the order of the model's outputs?")
    _passed(f"classify prints your class names: {', '.join(dict.fromkeys(printed))}.")
