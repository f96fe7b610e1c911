"""lessonkit.crosscheck: every candidate on every input, failures recorded, never raised."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lessonkit


@pytest.fixture()
def linear() -> nn.Module:
    torch.manual_seed(0)
    return nn.Linear(4, 3).eval()


def test_identical_candidates_pass_exactly(linear):
    scripted = torch.jit.script(linear)
    report = lessonkit.crosscheck(linear, {"scripted": scripted}, [torch.randn(2, 4), (torch.randn(5, 4),)])
    assert report.ok and len(report.rows) == 2
    assert all(r.exact and r.max_abs == 0 and r.max_rel == 0 for r in report.rows)
    report.assert_ok()
    assert str(report).splitlines()[-1] == "2 comparisons: all passed"


def test_every_kind_of_failure_is_a_row(linear):
    def off(x):
        return linear(x) + 1e-3

    def crash(x):
        raise RuntimeError("kaput")

    candidates = {
        "off": off,
        "crash": crash,
        "tuple": lambda x: (linear(x),),
        "shape": lambda x: linear(x)[:1],
        "dtype": lambda x: linear(x).double(),
    }
    report = lessonkit.crosscheck(linear, candidates, [torch.randn(2, 4)])
    rows = {r.candidate: r for r in report.rows}
    assert not report.ok and len(report.failures()) == 5
    assert rows["off"].max_abs == pytest.approx(1e-3, rel=1e-3) and "not close" in rows["off"].error
    assert rows["crash"].error == "raised RuntimeError: kaput" and rows["crash"].max_abs is None
    assert "different structure" in rows["tuple"].error and "got tuple" in rows["tuple"].error
    assert "shape" in rows["shape"].error and rows["shape"].max_abs is None
    assert "dtype" in rows["dtype"].error
    with pytest.raises(AssertionError, match="candidate 'off' differs from the reference on input 0"):
        report.assert_ok()
    html = report._repr_html_()
    assert html.count("background:#fde0dc") == 5 and "5 of 5 FAILED" in html


def test_tolerances_are_those_of_assert_close_and_can_be_set(linear):
    x = torch.randn(3, 4)
    tiny = lessonkit.crosscheck(linear, {"tiny": lambda t: linear(t) + 1e-7}, [x])
    assert tiny.ok and not tiny.rows[0].exact
    loose = lessonkit.crosscheck(linear, {"off": lambda t: linear(t) + 1e-3}, [x], atol=1e-2, rtol=0)
    assert loose.ok


def test_a_mutating_candidate_does_not_change_what_others_see():
    def mutate(x):
        x.mul_(0)
        return x

    seen = []

    def record(x):
        seen.append(x.clone())
        return x

    x = torch.ones(3)
    report = lessonkit.crosscheck(lambda t: t.clone(), {"mutate": mutate, "record": record}, [x])
    assert torch.equal(x, torch.ones(3)) and torch.equal(seen[0], torch.ones(3))
    assert [r.passed for r in report.rows] == [False, True]


def test_runs_without_grad(linear):
    grads = []
    lessonkit.crosscheck(linear, {"probe": lambda x: grads.append(torch.is_grad_enabled()) or linear(x)}, [torch.randn(1, 4)])
    assert grads == [False]


def test_dict_and_tuple_outputs(segmenter):
    scripted = torch.jit.script(segmenter)
    report = lessonkit.crosscheck(segmenter, {"scripted": scripted}, [torch.randn(1, 3, 64, 64)])
    assert report.ok, str(report)
    wrong_keys = lessonkit.crosscheck(segmenter, {"renamed": lambda x: {"logits": segmenter(x)["out"]}}, [torch.randn(1, 3, 64, 64)])
    assert "dict with keys ['out']" in wrong_keys.rows[0].error

    def pair(x):
        return x * 2, [x + 1, {"k": x}]

    ok = lessonkit.crosscheck(pair, {"same": pair}, [torch.randn(2)])
    assert ok.ok and ok.rows[0].exact


def test_torchvision_traced_and_scripted_agree(mobilenet):
    x = torch.randn(2, 3, 64, 64)
    report = lessonkit.crosscheck(
        mobilenet, {"traced": torch.jit.trace(mobilenet, x), "scripted": torch.jit.script(mobilenet)}, [x, torch.randn(1, 3, 96, 96)]
    )
    assert report.ok, str(report)


def test_bad_arguments_are_clear_errors(linear):
    with pytest.raises(ValueError, match="no candidates"):
        lessonkit.crosscheck(linear, {}, [torch.randn(1, 4)])
    with pytest.raises(ValueError, match="no inputs"):
        lessonkit.crosscheck(linear, {"same": linear}, [])
    with pytest.raises(TypeError, match="candidate 'file' is a str, not something callable"):
        lessonkit.crosscheck(linear, {"file": "model.pt"}, [torch.randn(1, 4)])
    with pytest.raises(ValueError, match="the reference raised on input 0"):
        lessonkit.crosscheck(linear, {"same": linear}, [torch.randn(1, 5)])
