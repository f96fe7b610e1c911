"""cpp_demo, built with lessonkit.cpp.build() against the installed PyTorch, driven with good and bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import lessonkit
from lessonkit import cpp

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def programs() -> Path:
    return cpp.build(quiet=True)


class TwoInOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, [new_h * 2, new_h.sum()]


@pytest.fixture(scope="session")
def models(tmp_path_factory, gate) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    paths = {name: folder / f"{name}.pt" for name in ("mlp", "gate", "two", "pickle", "junk", "truncated", "conv")}
    torch.jit.save(torch.jit.trace(mlp, torch.randn(2, 4)), paths["mlp"], _extra_files={"classes.txt": "cat dog bird"})
    torch.jit.script(gate).save(paths["gate"])
    torch.jit.script(TwoInOut().eval()).save(paths["two"])
    torch.save(mlp, paths["pickle"])
    paths["junk"].write_bytes(bytes(range(256)) * 64)
    whole = paths["mlp"].read_bytes()
    paths["truncated"].write_bytes(whole[: len(whole) // 2])
    conv = nn.Sequential(nn.Conv2d(3, 4, 3, stride=4), nn.Flatten(), nn.LazyLinear(10)).eval()
    conv(torch.ones(1, 3, 224, 224))
    torch.jit.trace(conv, torch.ones(1, 3, 224, 224)).save(paths["conv"])
    paths["mlp_eager"] = mlp  # type: ignore[assignment]
    return paths


def test_rebuilding_an_unchanged_tree_compiles_nothing(programs, capsys):
    assert (programs / "run_model").is_file() and (programs / "hello").is_file()
    assert cpp.build() == programs
    assert "(0 files compiled)" in capsys.readouterr().out


def test_outputs_equal_python(programs, models, gate):
    mlp = models["mlp_eager"]
    report = lessonkit.crosscheck(mlp, {"C++": cpp.candidate(models["mlp"])}, [torch.randn(5, 4), torch.randn(1, 4)])
    assert report.ok and all(r.exact for r in report.rows), str(report)
    both_branches = [torch.ones(2, 4), -torch.ones(2, 4)]
    report = lessonkit.crosscheck(gate, {"C++": cpp.candidate(models["gate"])}, both_branches)
    assert report.ok and all(r.exact for r in report.rows), str(report)


def test_several_inputs_and_nested_outputs(programs, models):
    scripted = torch.jit.load(models["two"])
    x, h = torch.randn(3, 4), torch.randn(3, 4)
    out = cpp.run(models["two"], (x, h))
    # run_model saves tuples of tensors: the list inside the output comes back as a tuple.
    assert isinstance(out, tuple) and len(out) == 2
    expected = scripted(x, h)
    assert torch.equal(out[0], expected[0])
    assert isinstance(out[1], tuple) and torch.equal(out[1][0], expected[1][0]) and torch.equal(out[1][1], expected[1][1])


def test_summary_shows_shapes_and_metadata(programs, models, tmp_path):
    inputs = tmp_path / "in.pt"
    torch.save([torch.randn(5, 4)], inputs)
    stdout = cpp.run_program([models["mlp"], inputs, tmp_path / "out.pt"])
    assert "(1 extra file)" in stdout and "extra/classes.txt: cat dog bird" in stdout
    assert "input 0: [5, 4] Float" in stdout and "output: [5, 3] Float" in stdout
    assert torch.load(tmp_path / "out.pt", weights_only=True).shape == (5, 3)


def test_latency(programs, models):
    timing = cpp.latency(models["mlp"], torch.randn(8, 4), repeat=20, threads=1)
    assert 0 < timing.min <= timing.p25 <= timing.median <= timing.p75


def _bad(tmp_path, models):
    good_inputs = tmp_path / "good.pt"
    torch.save([torch.randn(5, 4)], good_inputs)

    def saved(name, value):
        path = tmp_path / name
        torch.save(value, path)
        return path

    return {
        "missing model": ([tmp_path / "nope.pt", good_inputs], "model file not found"),
        "random bytes": ([models["junk"], good_inputs], "is not a TorchScript archive (not a complete zip file"),
        "truncated archive": ([models["truncated"], good_inputs], "is not a TorchScript archive (not a complete zip file"),
        "torch.save pickle": ([models["pickle"], good_inputs], "torch.save() pickle of a Python model. Save it for C++ with torch.jit.save"),
        "wrong shape": ([models["mlp"], saved("shape.pt", [torch.randn(5, 7)])], "the model rejected the inputs: RuntimeError: mat1 and mat2 shapes cannot be multiplied"),
        "wrong dtype": ([models["mlp"], saved("dtype.pt", [torch.ones(5, 4, dtype=torch.int64)])], "the model rejected the inputs"),
        "wrong count": ([models["mlp"], saved("count.pt", [torch.randn(5, 4), torch.randn(5, 4)])], "Expected at most 2 argument(s)"),
        "inputs not a tensor file": ([models["mlp"], models["junk"]], "cannot read the inputs"),
        "inputs not tensors": ([models["mlp"], saved("ints.pt", [1, 2])], "input 0 in"),
        "inputs are a model": ([models["mlp"], models["mlp"]], "cannot read the inputs"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing model", "random bytes", "truncated archive", "torch.save pickle", "wrong shape", "wrong dtype",
     "wrong count", "inputs not a tensor file", "inputs not tensors", "inputs are a model"],
)
def test_bad_input_gets_one_clear_message_and_no_output(programs, models, tmp_path, case):
    args, message = _bad(tmp_path, models)[case]
    out = tmp_path / "out.pt"
    done = subprocess.run([programs / "run_model", *args, out], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, "one line, no backtrace"
    assert not out.exists() and not Path(str(out) + ".partial").exists()


def test_extension_operator_missing_in_cpp(programs, tmp_path):
    import torchvision

    class Boxes(nn.Module):
        def forward(self, boxes: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            return torchvision.ops.nms(boxes, scores, 0.5)

    path = tmp_path / "nms.pt"
    torch.jit.script(Boxes()).save(str(path))
    boxes, scores = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11]]), torch.tensor([0.9, 0.8])
    with pytest.raises(cpp.CppRunError, match=r"Unknown builtin op: torchvision::nms\. The model calls an operator from an extension library") as info:
        cpp.run(path, (boxes, scores))
    assert "\n" not in str(info.value)


def test_unwritable_output(programs, models, tmp_path):
    inputs = tmp_path / "in.pt"
    torch.save([torch.randn(2, 4)], inputs)
    for target in (tmp_path / "no" / "such" / "dir" / "out.pt", tmp_path):
        with pytest.raises(cpp.CppRunError, match="cannot write the outputs to"):
            cpp.run_program([models["mlp"], inputs, target])
    assert list(tmp_path.iterdir()) == [inputs]


@pytest.mark.parametrize(
    "args, message",
    [([], "expected 3 files"), (["a", "b"], "expected 3 files"), (["a", "b", "c", "--repeat", "0"], "--repeat needs a whole number"),
     (["a", "b", "c", "--threads", "x"], "--threads needs a whole number"), (["a", "b", "c", "--repeat"], "--repeat needs a value"),
     (["a", "b", "c", "--bogus"], "unknown option --bogus")],
)
def test_bad_arguments(programs, args, message):
    done = subprocess.run([programs / "run_model", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr and "usage: run_model MODEL.pt INPUTS.pt OUTPUTS.pt" in done.stderr


def test_run_raises_with_the_programs_message(programs, models):
    with pytest.raises(cpp.CppRunError, match="torch.save\\(\\) pickle") as info:
        cpp.run(models["pickle"], torch.randn(2, 4))
    assert info.value.returncode == 1
    with pytest.raises(TypeError, match="input 0 is a str"):
        cpp.run(models["mlp"], ["not a tensor"])


def test_hello(programs, models):
    done = subprocess.run([programs / "hello", models["conv"]], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    conv = torch.jit.load(models["conv"])
    expected = conv(torch.ones(1, 3, 224, 224))[0, :5]
    printed = [float(v) for v in done.stdout.split("[")[0].split()]
    assert torch.allclose(torch.tensor(printed), expected, atol=1e-4)
    bad = subprocess.run([programs / "hello", models["pickle"]], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ")
    wrong = subprocess.run([programs / "hello", models["mlp"]], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 1 and "cannot be multiplied" in wrong.stderr


def _broken_copy(tmp_path: Path, edit) -> Path:
    source = tmp_path / "cpp_demo"
    shutil.copytree(ROOT / "cpp_demo", source, ignore=shutil.ignore_patterns("build"))
    edit(source)
    return source


def test_compile_error_shows_the_first_error_and_a_hint(tmp_path):
    def typo(source):
        path = source / "src" / "hello.cpp"
        path.write_text(path.read_text().replace("at::Tensor output", "at::Tensr output"))

    with pytest.raises(cpp.CppBuildError) as info:
        cpp.build(source=_broken_copy(tmp_path, typo), build_root=tmp_path / "build", quiet=True)
    message = str(info.value)
    assert message.startswith("build failed: ") and "hello.cpp" in message and "Tensr" in message
    assert "\nhint: " in message


def test_cxx17_gets_the_cxx20_hint(tmp_path):
    def cxx17(source):
        path = source / "CMakeLists.txt"
        path.write_text(path.read_text().replace("set(CMAKE_CXX_STANDARD 20)", "set(CMAKE_CXX_STANDARD 17)"))

    with pytest.raises(cpp.CppBuildError, match=r"C\+\+20 or later compatible compiler is required[\s\S]*hint: PyTorch 2.14's headers need C\+\+20"):
        cpp.build(source=_broken_copy(tmp_path, cxx17), build_root=tmp_path / "build", quiet=True)


def test_libtorch_folders(tmp_path):
    with pytest.raises(cpp.CppBuildError, match="is not a LibTorch folder"):
        cpp.build(libtorch=tmp_path, build_root=tmp_path / "build", quiet=True)
    torch_dir = Path(torch.__file__).parent
    args, name = cpp.cmake_arguments(libtorch=torch_dir)
    assert args == [f"-DCMAKE_PREFIX_PATH={torch_dir / 'share' / 'cmake'}"] and name.startswith("libtorch-")


@pytest.mark.skipif(torch.version.cuda is None or lessonkit.environment.cuda_toolkit_dir() is not None, reason="needs a CUDA wheel without a CUDA toolkit")
def test_cuda_wheel_through_find_package_gets_the_cuda_hint(tmp_path):
    # The failure FACTS.md describes, and why build() links such a wheel directly.
    with pytest.raises(cpp.CppBuildError, match=r"configure failed[\s\S]*hint: This torch is a CUDA build"):
        cpp.build(libtorch=Path(torch.__file__).parent, build_root=tmp_path / "build", quiet=True)
    args, name = cpp.cmake_arguments()
    assert args[0].startswith("-DTORCH_PACKAGE_DIR=") and name.endswith("-direct")


def test_command_line_build(programs):
    done = subprocess.run([sys.executable, "-m", "lessonkit", "build-cpp"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"programs in {programs}")
