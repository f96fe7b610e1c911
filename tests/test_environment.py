"""lessonkit.environment: the doctor's checks, and the set-up's pins and Python guard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib
from packaging.requirements import Requirement

import lessonkit
from lessonkit import environment as env

ROOT = Path(__file__).resolve().parents[1]


def test_doctor_passes_on_the_course_environment():
    report = lessonkit.doctor()
    names = [c.name for c in report.checks]
    assert names == ["Python", "PyTorch", "torchvision", "TorchScript", "torch build", "C++20 compiler", "CMake", "LibTorch"]
    assert report.ok, str(report)
    for name in ("Python", "PyTorch", "torchvision", "TorchScript", "LibTorch"):
        assert report[name].status == "ok", report[name]


def test_report_renders_as_text_and_html():
    report = env.DoctorReport(
        (
            env.Check("Python", "ok", "3.11"),
            env.Check("CMake", "fail", "cmake is not on PATH", "pip install cmake"),
            env.Check("torch build", "warning", "CUDA <13.0>", "nothing"),
        )
    )
    text = str(report)
    assert "[FAIL] CMake" in text and "fix: pip install cmake" in text
    assert text.splitlines()[-1] == "3 checks: 1 failed, 1 warnings"
    html = report._repr_html_()
    assert html.count("<tr") == 4 and "CUDA &lt;13.0&gt;" in html
    assert not report.ok
    with pytest.raises(KeyError, match="no check named 'GPU'"):
        report["GPU"]


@pytest.mark.parametrize("version, status", [((3, 9), "fail"), ((3, 10), "ok"), ((3, 13), "ok"), ((3, 14), "fail")])
def test_python_range(version, status):
    check = env.check_python(version)
    assert check.status == status
    if status == "fail":
        assert "3.10 to 3.13" in check.detail and check.fix


def test_missing_compiler_is_a_failed_check_not_an_exception(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CXX", raising=False)
    check = env.check_cxx20()
    assert check.status == "fail" and "no C++ compiler" in check.detail and check.fix
    check = env.check_cmake()
    assert check.status == "fail" and "not on PATH" in check.detail and "cmake" in check.fix


def test_compiler_without_cxx20_fails_with_its_own_message(tmp_path):
    # A "compiler" that rejects everything, as an old g++ rejects -std=c++20.
    fake = tmp_path / "old-g++"
    fake.write_text("#!/bin/sh\necho \"old-g++: error: unrecognized command-line option '-std=c++20'\" >&2\nexit 1\n")
    fake.chmod(0o755)
    check = env.check_cxx20(str(fake))
    assert check.status == "fail"
    assert "unrecognized command-line option '-std=c++20'" in check.detail
    assert "newer compiler" in check.fix


def test_cuda_toolkit_needs_nvcc_and_nvrtc(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    root = tmp_path / "cuda"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "nvcc").write_text("")
    (root / "lib64").mkdir()
    monkeypatch.setenv("CUDA_HOME", str(root))
    monkeypatch.delenv("CUDA_PATH", raising=False)
    partial = env.cuda_toolkit_dir()
    assert partial is None or partial != root  # nvcc alone is the partial toolkit FACTS.md describes
    (root / "lib64" / "libnvrtc.so").write_text("")
    assert env.cuda_toolkit_dir() == root


def _pins(requirements: list[str], python: str) -> dict[str, str]:
    """name -> '==version' for the requirements that apply to this Python."""
    pins = {}
    for line in requirements:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"python_version": python}):
            pins[req.name.lower()] = str(req.specifier)
    return pins


def test_environment_yml_has_the_same_pins_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in conda["dependencies"] if isinstance(d, str) and d.startswith("python="))
    python_version = python.split("=")[1]
    pip_section = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    assert "-e .[lab,test]" in pip_section, "environment.yml must install lessonkit with `-e .[lab,test]`"
    listed = [line for line in pip_section if not line.startswith("-")]
    assert _pins(listed, python_version) == _pins(wanted, python_version)


def test_every_pin_is_exact():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]:
        assert str(Requirement(line).specifier).startswith("=="), f"{line} is not pinned with =="


def _make(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env_extra},
    )


def test_setup_refuses_an_unsupported_python(tmp_path):
    # A python3 that reports 3.14: the real interpreter with its version_info replaced.
    fake = tmp_path / "python3.14"
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} -c "import sys; sys.version_info = (3, 14, 0); exec(sys.argv[1])" "$2"\n')
    fake.chmod(0o755)
    done = _make("setup", f"PYTHON={fake}", f"VENV={tmp_path / 'venv'}", env_extra={})
    assert done.returncode != 0
    assert "is Python 3.14; this course needs Python 3.10 to 3.13" in done.stdout + done.stderr
    assert not (tmp_path / "venv").exists()


@pytest.mark.skipif(Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(), reason="only inside the course's own .venv")
def test_second_setup_is_a_no_op():
    done = _make("setup", env_extra={})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is up to date" in done.stdout
