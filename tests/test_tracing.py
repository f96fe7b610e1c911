"""lessonkit.trace_report: each tracing pitfall is found, located in the student's code and explained."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import lessonkit


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return x - 10


class BatchBaked(nn.Module):
    def forward(self, x):
        n = int(x.shape[0])
        return x.reshape(n, -1).sum(1)


class DeviceBaked(nn.Module):
    def forward(self, x):
        return x + torch.ones(x.shape, device=torch.device("cpu"))


class Dropper(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        return self.dropout(self.linear(x))


def _report(*args, **kwargs):
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        report = lessonkit.trace_report(*args, **kwargs)
    return report, shown


def _kinds(report):
    return [p.kind for p in report.problems]


def test_data_dependent_branch():
    report, shown = _report(Branchy(), torch.ones(3))
    assert _kinds(report) == ["data-dependent control flow"]
    problem = report.problems[0]
    assert problem.where.startswith("Branchy.forward, line ") and problem.where.endswith(": if x.sum() > 0:")
    assert "torch.jit.script" in problem.fix and "Python boolean" in problem.message
    assert any(issubclass(w.category, torch.jit.TracerWarning) for w in shown), "the warning itself is still shown"
    assert isinstance(report.traced, torch.jit.ScriptModule)


def test_branch_with_check_inputs_that_take_the_other_path():
    report, _ = _report(Branchy(), torch.ones(3), check_inputs=[-torch.ones(3)])
    kinds = _kinds(report)
    assert kinds[0] == "data-dependent control flow" and kinds[-1] == "wrong answer on a check input"
    assert "the check inputs take another path" in kinds
    check_error = report.problems[kinds.index("the check inputs take another path")]
    assert "graphs traced from the check inputs differ" in check_error.message
    # The trace is still returned, so its wrong answer can be seen.
    assert torch.equal(report.traced(-torch.ones(3)), -2 * torch.ones(3))
    assert report.check is not None and not report.check.ok


def test_batch_size_baked_in():
    report, _ = _report(BatchBaked(), torch.ones(2, 3), check_inputs=[torch.ones(5, 3)])
    kinds = _kinds(report)
    assert kinds[0] == "Python number taken from a tensor"
    assert report.problems[0].where.endswith("n = int(x.shape[0])")
    assert "wrong answer on a check input" in kinds
    assert "shape '[2, -1]' is invalid" in report.problems[-1].message


def test_device_created_in_forward():
    report, _ = _report(DeviceBaked(), torch.ones(2))
    assert _kinds(report) == ["device fixed inside forward"]
    assert report.problems[0].where.startswith("DeviceBaked.forward, line ")
    assert 'device=torch.device("cpu")' in report.problems[0].where
    assert "ones_like" in report.problems[0].fix


def test_dropout_in_training_mode_and_the_fix():
    torch.manual_seed(0)
    model = Dropper().train()
    report, _ = _report(model, torch.ones(2, 4))
    kinds = _kinds(report)
    assert "dropout traced in training mode" in kinds and "outputs differ when the trace is re-run" in kinds
    assert any(p.where.endswith("return self.dropout(self.linear(x))") for p in report.problems)
    fixed, shown = _report(model.eval(), torch.ones(2, 4), check_inputs=[torch.randn(3, 4)])
    assert fixed.ok and fixed.check.ok and str(fixed).startswith("trace report: no problems found")
    assert not any(issubclass(w.category, torch.jit.TracerWarning) for w in shown)


def test_dropout_of_a_sequential_is_named_by_submodule():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    report, _ = _report(net, torch.randn(3, 4))
    dropout = next(p for p in report.problems if p.kind == "dropout traced in training mode")
    assert dropout.where == "submodule 1 (Dropout)"


def test_torchvision_models_trace_cleanly(resnet18, mobilenet):
    for model in (resnet18, mobilenet):
        report, _ = _report(model, torch.randn(1, 3, 64, 64), check_inputs=[torch.randn(2, 3, 80, 80)])
        assert report.ok, str(report)


def test_report_renders(gate):
    report, _ = _report(gate, torch.ones(1, 4), check_inputs=[-torch.ones(1, 4)])
    text, html = str(report), report._repr_html_()
    assert text.startswith("trace report: ") and "fix:" in text
    assert "<ol>" in html and "data-dependent control flow" in html


def test_bad_input():
    with pytest.raises(TypeError, match="takes an nn.Module, got function"):
        lessonkit.trace_report(lambda x: x, torch.ones(1))
    with pytest.raises(TypeError, match="already TorchScript"):
        lessonkit.trace_report(torch.jit.script(nn.Linear(2, 2)), torch.ones(1, 2))
