"""Exercise checkers: right answers pass, each typical wrong answer gets its own hint."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lessonkit
from lessonkit import ExerciseError


class IfGate(nn.Module):  # the exercise's starting point
    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return x - 1


class WhereGate(nn.Module):  # the answer
    def forward(self, x):
        return torch.where(x.sum() > 0, x * 2, x - 1)


class WrongGate(nn.Module):
    def forward(self, x):
        return torch.where(x.sum() > 0, x * 2, x + 1)


def test_sign_gate(capsys):
    lessonkit.check_sign_gate(WhereGate())
    assert capsys.readouterr().out.startswith("Correct!")
    with pytest.warns(torch.jit.TracerWarning), pytest.raises(ExerciseError, match=r"torch\.where\(x\.sum\(\) > 0"):
        lessonkit.check_sign_gate(IfGate())
    with pytest.raises(ExerciseError, match="even before tracing"):
        lessonkit.check_sign_gate(WrongGate())
    with pytest.raises(ExerciseError, match=r"pass an instance, e.g. WhereGate\(\)"):
        lessonkit.check_sign_gate(WhereGate)
    with pytest.raises(ExerciseError, match="pass the eager SignGate"):
        lessonkit.check_sign_gate(torch.jit.script(WhereGate()))


class Head(nn.Module):
    def __init__(self, flatten: str) -> None:
        super().__init__()
        self.linear = nn.Linear(12, 5)
        self.flatten = flatten

    def forward(self, x):
        if self.flatten == "int":
            x = x.view(int(x.shape[0]), -1)
        elif self.flatten == "literal":
            x = x.view(2, -1)
        else:
            x = x.flatten(1)
        return self.linear(x)


def test_any_batch_size(capsys):
    torch.manual_seed(0)
    lessonkit.check_any_batch_size(Head("flatten"))
    assert "batches of 1, 2, 5 and 16" in capsys.readouterr().out
    with pytest.warns(torch.jit.TracerWarning), pytest.raises(ExerciseError, match=r"x\.flatten\(1\)"):
        lessonkit.check_any_batch_size(Head("int"))
    with pytest.raises(ExerciseError, match="fails on a batch of 1 even before tracing"):
        lessonkit.check_any_batch_size(Head("literal"))
    with pytest.raises(ExerciseError, match="got str"):
        lessonkit.check_any_batch_size("model")


class Halve(nn.Module):
    def forward(self, x):
        while x.norm() > 1:
            x = x / 2
        return x


class HalveOnce(nn.Module):
    def forward(self, x):
        for _ in range(3):
            x = x / 2
        return x


def test_halve_until_small(capsys):
    lessonkit.check_halve_until_small(torch.jit.script(Halve()))
    assert "matches Python" in capsys.readouterr().out
    with pytest.warns(torch.jit.TracerWarning):
        traced = torch.jit.trace(Halve(), torch.full((3,), 5.0))
    with pytest.raises(ExerciseError, match="this is a trace"):
        lessonkit.check_halve_until_small(traced)
    with pytest.raises(ExerciseError, match="got Halve"):
        lessonkit.check_halve_until_small(Halve())
    with pytest.raises(ExerciseError, match="wrong result"):
        lessonkit.check_halve_until_small(torch.jit.script(HalveOnce()))


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))

    def predict(self, x: torch.Tensor) -> torch.Tensor:  # not exported: scripting leaves it out
        return self.forward(x).argmax(dim=1)


class Exported(Classifier):
    @torch.jit.export
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x).argmax(dim=1)


class ExportedWrong(Exported):
    @torch.jit.export
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x).argmin(dim=1)


def test_scriptable_classifier(capsys):
    torch.manual_seed(0)
    model = Exported().eval()
    lessonkit.check_scriptable_classifier(torch.jit.script(model), model)
    assert "predict is exported" in capsys.readouterr().out
    plain = Classifier().eval()
    with pytest.raises(ExerciseError, match="@torch.jit.export"):
        lessonkit.check_scriptable_classifier(torch.jit.script(plain), plain)
    wrong = ExportedWrong().eval()
    with pytest.raises(ExerciseError, match=r"argmax\(dim=1\)"):
        lessonkit.check_scriptable_classifier(torch.jit.script(wrong), wrong)
    with pytest.raises(ExerciseError, match="differs from the eager one"):
        lessonkit.check_scriptable_classifier(torch.jit.script(model), Exported().eval())
