"""Lesson 01: what tracing got wrong, in plain words.

`trace_report` traces a module the ordinary way, but keeps every `TracerWarning`
and `TracingCheckError`, looks at the graph for what tracing bakes in without a
word (devices, dropout in training mode), runs the trace against the eager model
on the check inputs, and explains each problem: what it means, which line of
your `forward` caused it, and what to do.
"""

from __future__ import annotations

import html
import linecache
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from .crosscheck import CrosscheckReport, _first_line, crosscheck

_TORCH_DIR = str(Path(torch.__file__).parent)
_LESSONKIT_DIR = str(Path(__file__).parent)


@dataclass(frozen=True)
class TraceProblem:
    """One thing tracing got (or may have got) wrong."""

    kind: str  # short title: "data-dependent control flow", ...
    where: str  # "Branchy.forward, line 3: if x.sum() > 0:" or "" when unknown
    message: str  # what PyTorch said (or what we measured)
    explanation: str
    fix: str


# (pattern of the TracerWarning message, kind, explanation, fix)
_WARNING_RULES: list[tuple[str, str, str, str]] = [
    (
        r"Python boolean",
        "data-dependent control flow",
        "An `if`, `while`, `and`/`or` or `assert` looked at a tensor's value. Tracing ran only the branch "
        "the example input took and recorded its ops; the other branch is not in the graph, so other inputs "
        "silently get the example's branch.",
        "Script the part with control flow (`torch.jit.script`, lesson 02), or write it without branching "
        "(`torch.where(cond, a, b)`).",
    ),
    (
        r"Python (integer|number|float|index)",
        "Python number taken from a tensor",
        "A tensor (often a size, as in `int(x.shape[0])`, or a value via `.item()`) became a plain Python number. "
        "The trace stores it as a constant: the traced model keeps the example's value, e.g. its batch size.",
        "Keep sizes as tensors: use `x.size(0)` or `x.shape[0]` without `int()`, `-1` in `view`/`reshape`, or "
        "`x.flatten(1)`; keep values in tensor ops instead of `.item()`; or script that function.",
    ),
    (
        r"does not match the corresponding output|nondeterministic nodes",
        "outputs differ when the trace is re-run",
        "PyTorch re-ran the traced graph on the inputs and got other numbers than the Python model. Random ops "
        "(dropout in training mode) or a branch baked into the trace do this.",
        "Call `model.eval()` before tracing; if it persists, look for control flow on tensor values.",
    ),
    (
        r"Iterating over a tensor",
        "loop over a tensor",
        "A Python `for` loop ran over a tensor: the trace unrolled it for the example's length.",
        "Use tensor ops over the whole dimension, or script the loop.",
    ),
]


@dataclass
class TraceReport:
    """The traced module (None if tracing failed outright) and the problems found."""

    traced: torch.jit.ScriptModule | None
    problems: list[TraceProblem] = field(default_factory=list)
    check: CrosscheckReport | None = None  # eager vs traced on the check inputs

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            agree = " (the trace agrees with the model on every check input)" if self.check else ""
            return "trace report: no problems found" + agree
        lines = [f"trace report: {len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}"]
        for i, p in enumerate(self.problems, 1):
            lines.append(f"{i}. {p.kind}" + (f"  [{p.where}]" if p.where else ""))
            lines.append(f"   PyTorch: {p.message}")
            lines.append(f"   why:     {p.explanation}")
            lines.append(f"   fix:     {p.fix}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if self.ok:
            return f"<p style='color:#2d6a2d'><b>{html.escape(str(self))}</b></p>"
        items = "".join(
            f"<li><b>{html.escape(p.kind)}</b>"
            + (f" <code>{html.escape(p.where)}</code>" if p.where else "")
            + f"<br><i>PyTorch:</i> {html.escape(p.message)}<br><i>Why:</i> {html.escape(p.explanation)}"
            f"<br><i>Fix:</i> {html.escape(p.fix)}</li>"
            for p in self.problems
        )
        return f"<p style='color:#b00020'><b>trace report: {len(self.problems)} problem(s)</b></p><ol>{items}</ol>"


def _where(filename: str, lineno: int, function: str = "") -> str:
    code = linecache.getline(filename, lineno).strip()
    if not code:
        return ""
    return f"{function + ', ' if function else ''}line {lineno}: {code}"


def _function_at(module: torch.nn.Module, filename: str, lineno: int) -> str:
    """'Branchy.forward' for the forward (of the module or a submodule) holding that line."""
    for sub in module.modules():
        code = getattr(type(sub).forward, "__code__", None)
        if code is None or code.co_filename != filename:
            continue
        lines = [ln for _, _, ln in code.co_lines() if ln is not None] if hasattr(code, "co_lines") else [code.co_firstlineno]
        if lines and code.co_firstlineno <= lineno <= max(lines):
            return f"{type(sub).__name__}.forward"
    return ""


def _user_frame(node: torch.Node) -> tuple[str, int, str] | None:
    """The first frame of a traced node's Python stack that is not inside torch."""
    for line in str(node.sourceRange()).splitlines():
        match = re.match(r"\s*(.+)\((\d+)\): (\S+)$", line)
        if not match:
            continue
        if match.group(1).startswith(str(Path(_TORCH_DIR) / "jit")):
            return None  # reached torch.jit.trace itself: the frames beyond are the caller's, not forward's
        if not match.group(1).startswith((_TORCH_DIR, _LESSONKIT_DIR)):
            return match.group(1), int(match.group(2)), match.group(3)
    return None


def _node_where(module: torch.nn.Module, node: torch.Node) -> str:
    """The line of the student's forward that made this node, else the submodule it came from."""
    frame = _user_frame(node)
    if frame is not None:
        filename, lineno, _ = frame
        return _where(filename, lineno, _function_at(module, filename, lineno))
    scope = node.scopeName().replace("__module.", "")
    if scope and scope != "__module":
        try:
            return f"submodule {scope} ({type(module.get_submodule(scope)).__name__})"
        except AttributeError:
            return f"submodule {scope}"
    return ""


def _nodes(block: torch.Block) -> list[torch.Node]:
    out = []
    for n in block.nodes():
        out.append(n)
        for b in n.blocks():
            out.extend(_nodes(b))
    return out


def _graph_problems(module: torch.nn.Module, traced: torch.jit.ScriptModule) -> list[TraceProblem]:
    """What tracing bakes in without a warning: devices, and dropout in training mode."""
    problems = []
    graph = traced.inlined_graph  # keep it alive while its nodes are read
    for node in _nodes(graph.block()):
        if node.kind() == "prim::Constant" and node.outputsSize() == 1 and node.output().type().kind() == "DeviceObjType":
            device = node.output().toIValue()
            problems.append(
                TraceProblem(
                    "device fixed inside forward",
                    _node_where(module, node),
                    f"the graph holds the constant device '{device}'",
                    f"A tensor created inside forward (`torch.zeros(...)`, `device=...`) or moved with `.to(...)` was "
                    f"recorded with the constant device '{device}': the traced model puts it there whatever device "
                    "its inputs are on.",
                    "Create tensors from the input instead: `torch.ones_like(x)`, `x.new_zeros(...)`; or script the module.",
                )
            )
        elif "dropout" in node.kind() and module.training:
            problems.append(
                TraceProblem(
                    "dropout traced in training mode",
                    _node_where(module, node),
                    f"the graph has {node.kind()} and the module is in training mode",
                    "The model was traced in training mode, so the trace keeps dropout switched on: it gives random "
                    "outputs, and a deployed model must not.",
                    "Call `model.eval()` before tracing.",
                )
            )
    return problems


def _warning_problem(module: torch.nn.Module, w: warnings.WarningMessage) -> TraceProblem:
    message = str(w.message)
    where = ""
    if not w.filename.startswith(_TORCH_DIR):
        where = _where(w.filename, w.lineno, _function_at(module, w.filename, w.lineno))
    said = _first_line(message, limit=None).removesuffix(" Detailed error:")
    mismatch = next((ln.strip() for ln in message.splitlines() if ln.startswith("Mismatched elements")), "")
    said += f" ({mismatch})" if mismatch else ""
    for pattern, kind, explanation, fix in _WARNING_RULES:
        if re.search(pattern, message):
            return TraceProblem(kind, where, said, explanation, fix)
    return TraceProblem("tracer warning", where, said, "PyTorch warns that this trace may not generalise.", "Read the message; if in doubt, script the module.")


def trace_report(
    module: torch.nn.Module,
    example_inputs: Any,
    check_inputs: Sequence[Any] | None = None,
) -> TraceReport:
    """Trace `module` and explain, in plain words, what the trace got or may get wrong.

    `example_inputs` is what `torch.jit.trace` takes (a tensor or a tuple); `check_inputs`
    a list of such inputs, ideally ones that take other paths through the model. The
    warnings are shown as usual too: this report explains them, it does not hide them.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"trace_report takes an nn.Module, got {type(module).__name__}")
    if isinstance(module, torch.jit.ScriptModule):
        raise TypeError("this module is already TorchScript; pass the eager nn.Module you want to trace")
    check_list = list(check_inputs) if check_inputs is not None else []
    as_args = [c if isinstance(c, tuple) else (c,) for c in check_list]

    problems: list[TraceProblem] = []
    check_failed: list[TraceProblem] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            traced = torch.jit.trace(module, example_inputs, check_inputs=as_args or None)
        except torch.jit.TracingCheckError as exc:
            detail = str(exc)
            if "Graphs differed" in detail:
                message = "TracingCheckError: the graphs traced from the check inputs differ from the example's"
            elif "Exception:" in detail:  # the check input crashed the trace: show the crash
                message = "TracingCheckError: running the trace on a check input failed: " + _first_line(detail.split("Exception:", 1)[1], limit=None)
            else:
                message = "TracingCheckError: " + _first_line(detail, limit=None)
            check_failed.append(
                TraceProblem(
                    "the check inputs take another path",
                    "",
                    message,
                    "PyTorch traced the model again with each check input and got a different graph (or an error): "
                    "the model does something different for those inputs, and one trace cannot hold both.",
                    "Script the model, or the part that depends on the input's values or sizes.",
                )
            )
            # Trace again without the check, so the wrong answer can be seen (and compared below).
            traced = torch.jit.trace(module, example_inputs, check_trace=False)

    seen: set[tuple[str, str]] = set()
    shown: set[tuple[Any, ...]] = set()
    for w in caught:
        if issubclass(w.category, torch.jit.TracerWarning):
            problem = _warning_problem(module, w)
            if (problem.kind, problem.where) not in seen:
                seen.add((problem.kind, problem.where))
                problems.append(problem)
        # Show each warning once, as it would have been shown (the active filters decide):
        # the report explains TracerWarnings, it never hides them.
        key = (w.category, str(w.message), w.filename, w.lineno)
        if key not in shown:
            shown.add(key)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)

    problems.extend(check_failed)
    problems.extend(p for p in _graph_problems(module, traced) if (p.kind, p.where) not in seen)
    check = None
    if check_list:
        check = crosscheck(module, {"traced": traced}, check_list)
        for row in check.failures():
            problems.append(
                TraceProblem(
                    "wrong answer on a check input",
                    "",
                    f"check input {row.input_index}: {row.error}",
                    "The traced model and the Python model disagree on this input: the trace does not generalise to it.",
                    "See the problems above for the cause; a scripted model keeps the logic the trace lost.",
                )
            )
    return TraceReport(traced, problems, check)
