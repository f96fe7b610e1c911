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


class TinyCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4, 3))

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.conv(x))))


def test_saved_with_metadata(tmp_path, capsys):
    names = ["a", "b", "c"]
    model = torch.jit.script(TinyCNN().eval())
    good = tmp_path / "good.pt"
    model.save(str(good), _extra_files={"classes.txt": "a\nb\nc", "input_shape.txt": "1,1,8,8"})
    lessonkit.check_saved_with_metadata(good, names)
    assert "3 class names" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="there is no file"):
        lessonkit.check_saved_with_metadata(tmp_path / "missing.pt", names)
    pickle = tmp_path / "pickle.pt"
    torch.save(TinyCNN(), pickle)
    with pytest.raises(ExerciseError, match="torch.save\\(\\) pickle"):
        lessonkit.check_saved_with_metadata(pickle, names)
    bare = tmp_path / "bare.pt"
    model.save(str(bare))
    with pytest.raises(ExerciseError, match="no extra file classes.txt"):
        lessonkit.check_saved_with_metadata(bare, names)
    shuffled = tmp_path / "shuffled.pt"
    model.save(str(shuffled), _extra_files={"classes.txt": "b\na\nc", "input_shape.txt": "1,1,8,8"})
    with pytest.raises(ExerciseError, match="one per line, in order"):
        lessonkit.check_saved_with_metadata(shuffled, names)
    bad_shape = tmp_path / "shape.pt"
    model.save(str(bad_shape), _extra_files={"classes.txt": "a\nb\nc", "input_shape.txt": "1x1x8x8"})
    with pytest.raises(ExerciseError, match="comma-separated whole numbers"):
        lessonkit.check_saved_with_metadata(bad_shape, names)
    wrong_shape = tmp_path / "wrong.pt"
    model.save(str(wrong_shape), _extra_files={"classes.txt": "a\nb\nc", "input_shape.txt": "1,3,8,8"})
    with pytest.raises(ExerciseError, match="does not accept an input of the saved shape"):
        lessonkit.check_saved_with_metadata(wrong_shape, names)


def test_frozen(capsys):
    torch.manual_seed(0)
    model = TinyCNN()
    example = torch.randn(2, 1, 8, 8)
    lessonkit.check_frozen(torch.jit.freeze(torch.jit.script(model.eval())), model, example)
    assert "no attribute reads" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="torch.jit.freeze"):
        lessonkit.check_frozen(torch.jit.script(model.eval()), model, example)
    with pytest.raises(ExerciseError, match="expected a frozen ScriptModule, got TinyCNN"):
        lessonkit.check_frozen(model, model, example)
    other = TinyCNN().eval()
    with pytest.raises(ExerciseError, match="other outputs than the eager model"):
        lessonkit.check_frozen(torch.jit.freeze(torch.jit.script(other)), model, example)


class BatchBakedNorm(nn.Module):
    def forward(self, x):
        flat = x.view(int(x.shape[0]), -1)
        return flat / flat.norm(dim=1, keepdim=True)


def test_runs_in_cpp(tmp_path, capsys):
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 3)).eval()
    path = tmp_path / "mlp.pt"
    torch.jit.script(mlp).save(str(path))
    lessonkit.check_runs_in_cpp(path, mlp, [torch.randn(1, 4), torch.randn(5, 4)])
    assert "batch sizes [1, 5]" in capsys.readouterr().out
    pickle = tmp_path / "pickle.pt"
    torch.save(mlp, pickle)
    with pytest.raises(ExerciseError, match="cannot load a torch.save\\(\\) pickle"):
        lessonkit.check_runs_in_cpp(pickle, mlp, [torch.randn(1, 4)])
    baked = tmp_path / "baked.pt"
    with pytest.warns(torch.jit.TracerWarning):
        torch.jit.trace(BatchBakedNorm(), torch.randn(2, 3, 4)).save(str(baked))
    with pytest.raises(ExerciseError, match=r"right for batch sizes \[2\] but not 1 .*a size was frozen into the trace"):
        lessonkit.check_runs_in_cpp(baked, BatchBakedNorm(), [torch.randn(n, 3, 4) for n in (1, 2, 5)])
    with pytest.raises(ExerciseError, match="there is no file"):
        lessonkit.check_runs_in_cpp(tmp_path / "none.pt", mlp, [torch.randn(1, 4)])


def test_any_batch_in_cpp_needs_three_sizes_and_a_single_image(tmp_path, capsys):
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 3)).eval()
    path = tmp_path / "mlp.pt"
    torch.jit.script(mlp).save(str(path))
    with pytest.raises(ExerciseError, match=r"at least three different batch sizes, one of them 1 .*you used \[2, 5\]"):
        lessonkit.check_any_batch_in_cpp(path, mlp, [torch.randn(2, 4), torch.randn(5, 4)])
    with pytest.raises(ExerciseError, match=r"you used \[2, 3, 5\]"):
        lessonkit.check_any_batch_in_cpp(path, mlp, [torch.randn(n, 4) for n in (2, 3, 5)])
    lessonkit.check_any_batch_in_cpp(path, mlp, [torch.randn(n, 4) for n in (1, 3, 9)])
    assert "batch sizes [1, 3, 9]" in capsys.readouterr().out


def test_class_names_in_cpp(tmp_path, capsys):
    from lessonkit.capstone import DigitsCNN

    torch.manual_seed(0)
    model = torch.jit.script(DigitsCNN().eval())
    names = [f"n{i}" for i in range(10)]
    images = torch.rand(6, 1, 8, 8) * 16
    named, digits, reversed_ = tmp_path / "named.pt", tmp_path / "digits.pt", tmp_path / "reversed.pt"
    shape = "height=8\nwidth=8\npixel_max=16"
    model.save(str(named), _extra_files={"classes.txt": "\n".join(names), "input.txt": shape})
    model.save(str(digits), _extra_files={"classes.txt": "\n".join(map(str, range(10))), "input.txt": shape})
    model.save(str(reversed_), _extra_files={"classes.txt": "\n".join(reversed(names)), "input.txt": shape})
    lessonkit.check_class_names_in_cpp(named, names, images)
    assert "classify prints your class names" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="printed digits, not your names"):
        lessonkit.check_class_names_in_cpp(digits, names, images)
    with pytest.raises(ExerciseError, match="in the order of the model's outputs"):
        lessonkit.check_class_names_in_cpp(reversed_, names, images)
    with pytest.raises(ExerciseError, match="classify failed: .*lacks extra/classes.txt"):
        bare = tmp_path / "bare.pt"
        model.save(str(bare))
        lessonkit.check_class_names_in_cpp(bare, names, images)
