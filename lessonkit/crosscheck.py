"""Lessons 01-05: do all versions of a model give the same numbers?

`crosscheck` runs a reference (usually the eager model) and any number of
candidates (traced, scripted, reloaded, C++) on the same inputs and compares
every output with `torch.testing.assert_close` semantics. A candidate that
raises or returns another structure is a failed row, never an exception.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import torch


@dataclass(frozen=True)
class Comparison:
    """How one candidate did on one input."""

    candidate: str
    input_index: int
    passed: bool
    exact: bool
    max_abs: float | None  # largest absolute difference over all output tensors
    max_rel: float | None  # largest relative difference
    error: str | None = None  # why it failed: the candidate's exception, a structure or value mismatch


@dataclass(frozen=True)
class CrosscheckReport:
    """All comparisons of a `crosscheck` run; a table in notebooks, text in terminals."""

    rows: tuple[Comparison, ...]
    rtol: float | None
    atol: float | None

    @property
    def ok(self) -> bool:
        """True when every candidate matched the reference on every input."""
        return all(r.passed for r in self.rows)

    def failures(self) -> list[Comparison]:
        return [r for r in self.rows if not r.passed]

    def assert_ok(self) -> None:
        """Raise AssertionError naming the first candidate and input that failed."""
        for r in self.rows:
            if not r.passed:
                raise AssertionError(f"candidate {r.candidate!r} differs from the reference on input {r.input_index}: {r.error}")

    def _cells(self) -> list[list[str]]:
        return [
            [r.candidate, str(r.input_index), "yes" if r.passed else "NO", "yes" if r.exact else "no",
             _fmt(r.max_abs), _fmt(r.max_rel), r.error or ""]
            for r in self.rows
        ]

    def __str__(self) -> str:
        header = ["candidate", "input", "passed", "exact", "max abs diff", "max rel diff", "note"]
        rows = [header] + [[*c[:6], _first_line(c[6])] for c in self._cells()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1] for r in rows]
        failed = len(self.failures())
        lines.append(f"{len(self.rows)} comparisons: {'all passed' if not failed else f'{failed} FAILED'}")
        return "\n".join(line.rstrip() for line in lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ["candidate", "input", "passed", "exact", "max abs diff", "max rel diff", "note"])
        body = ""
        for r, cells in zip(self.rows, self._cells()):
            style = "" if r.passed else " style='background:#fde0dc;font-weight:bold'"
            cells[-1] = _first_line(cells[-1])
            body += f"<tr{style}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
        failed = len(self.failures())
        summary = "all passed" if not failed else f"{failed} of {len(self.rows)} FAILED"
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{summary}</p>"


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return "0" if x == 0 else f"{x:.2e}"


def _first_line(text: str, limit: int | None = 160) -> str:
    """The first non-empty line, cut to `limit` characters (None: not cut)."""
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


def _error_line(exc: BaseException) -> str:
    """The line of an exception's message that says what went wrong.

    TorchScript's interpreter errors start with a traceback and end with the real error.
    """
    text = str(exc)
    if text.startswith("The following operation failed in the TorchScript interpreter"):
        text = text.strip().splitlines()[-1]
    return _first_line(text).removeprefix(f"{type(exc).__name__}: ")


def _clone(value: Any) -> Any:
    """Deep-copy the tensors of an input, so a candidate that mutates its input harms no one else."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple):
        return tuple(_clone(v) for v in value)
    if isinstance(value, list):
        return [_clone(v) for v in value]
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def _leaves(expected: Any, actual: Any, path: str = "output") -> list[tuple[str, Any, Any]]:
    """Pair up the tensors (and numbers) of two outputs, or raise ValueError on another structure."""
    if isinstance(expected, torch.Tensor) or isinstance(actual, torch.Tensor):
        if not (isinstance(expected, torch.Tensor) and isinstance(actual, torch.Tensor)):
            raise ValueError(f"{path}: expected {type(expected).__name__}, got {type(actual).__name__}")
        return [(path, expected, actual)]
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            got = f"{type(actual).__name__} of {len(actual)}" if isinstance(actual, (tuple, list)) else type(actual).__name__
            raise ValueError(f"{path}: expected {type(expected).__name__} of {len(expected)}, got {got}")
        return [leaf for i, (e, a) in enumerate(zip(expected, actual)) for leaf in _leaves(e, a, f"{path}[{i}]")]
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping) or set(actual) != set(expected):
            got = sorted(actual) if isinstance(actual, Mapping) else type(actual).__name__
            raise ValueError(f"{path}: expected a dict with keys {sorted(expected)}, got {got}")
        return [leaf for k in expected for leaf in _leaves(expected[k], actual[k], f"{path}[{k!r}]")]
    return [(path, expected, actual)]


def _compare(expected: Any, actual: Any, rtol: float | None, atol: float | None) -> tuple[bool, bool, float | None, float | None, str | None]:
    """passed, exact, max abs, max rel, error for one output pair."""
    try:
        pairs = _leaves(expected, actual)
    except ValueError as exc:
        return False, False, None, None, f"different structure: {exc}"
    passed, exact, measured, max_abs, max_rel, error = True, True, True, 0.0, 0.0, None
    for path, e, a in pairs:
        tensors = isinstance(e, torch.Tensor) and isinstance(a, torch.Tensor)
        if tensors and e.shape == a.shape and e.dtype == a.dtype:
            if e.numel():
                diff = (a.double() - e.double()).abs()
                diff = diff[torch.isfinite(diff)]  # inf - inf and NaNs are judged by assert_close
                max_abs = max(max_abs, diff.max().item() if diff.numel() else 0.0)
                rel = (a.double() - e.double()).abs() / e.double().abs()
                rel = rel[torch.isfinite(rel)]
                max_rel = max(max_rel, rel.max().item() if rel.numel() else 0.0)
        elif tensors:
            measured = False  # another shape or dtype: no difference to measure
        try:
            torch.testing.assert_close(a, e, rtol=rtol, atol=atol, equal_nan=True)
        except (AssertionError, TypeError, ValueError, RuntimeError) as exc:
            passed = False
            error = error or f"{path}: {_first_line(str(exc))} {_mismatch_summary(str(exc))}".strip()
        if tensors:
            exact = exact and a.dtype == e.dtype and a.shape == e.shape and torch.equal(a, e)
        else:
            exact = exact and bool(a == e)
    return passed, exact, max_abs if measured else None, max_rel if measured else None, error


def _mismatch_summary(message: str) -> str:
    """The 'Mismatched elements: 3 / 8 (37.5%)' line of assert_close's message, if present."""
    return next((f"({ln.strip()})" for ln in message.splitlines() if ln.strip().startswith("Mismatched elements")), "")


def crosscheck(
    reference: Callable[..., Any],
    candidates: Mapping[str, Callable[..., Any]],
    inputs: Sequence[Any],
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> CrosscheckReport:
    """Run `reference` and each candidate on each input and compare the outputs.

    `inputs` holds argument tuples, or single tensors for one-argument models. Every
    call runs under `torch.no_grad()` on a fresh clone of the input. Tolerances default
    to `torch.testing.assert_close`'s for the dtype. A candidate's exception becomes a
    failed row; the reference raising is an error (there is nothing to compare with).
    """
    if not candidates:
        raise ValueError("no candidates to check: pass a mapping like {'traced': traced_model}")
    inputs = list(inputs)
    if not inputs:
        raise ValueError("no inputs: pass a list of example inputs, e.g. [torch.randn(2, 4)]")
    for name, fn in candidates.items():
        if not callable(fn):
            raise TypeError(f"candidate {name!r} is a {type(fn).__name__}, not something callable")
    if not callable(reference):
        raise TypeError(f"the reference is a {type(reference).__name__}, not something callable")

    rows = []
    with torch.no_grad():
        for i, item in enumerate(inputs):
            args = item if isinstance(item, tuple) else (item,)
            try:
                expected = reference(*_clone(args))
            except Exception as exc:
                raise ValueError(f"the reference raised on input {i}, so there is nothing to compare with: {exc}") from exc
            for name, fn in candidates.items():
                try:
                    actual = fn(*_clone(args))
                except Exception as exc:  # a candidate failing is a result, not a crash
                    rows.append(Comparison(name, i, False, False, None, None, f"raised {type(exc).__name__}: {_error_line(exc)}"))
                    continue
                rows.append(Comparison(name, i, *_compare(expected, actual, rtol, atol)))
    return CrosscheckReport(tuple(rows), rtol, atol)
