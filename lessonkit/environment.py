"""Lesson 00: is this machine ready for the course?

`doctor()` checks the whole tool-chain a student needs, from Python to the
LibTorch CMake files, and says how to fix what is missing. Nothing here raises
for a missing tool: a missing tool is a failed check with its fix.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

Status = Literal["ok", "warning", "fail"]

#: Python versions TorchScript supports (3.14 and newer are not supported).
SUPPORTED_PYTHON = ((3, 10), (3, 13))
#: The PyTorch release this course is written and tested against.
COURSE_TORCH = "2.14"
#: Oldest CMake our cpp_demo and LibTorch's own CMake files accept.
MIN_CMAKE = (3, 18)


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class DoctorReport:
    """The result of `doctor()`: a list of checks, shown as a table."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings are allowed)."""
        return all(c.status != "fail" for c in self.checks)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r}; checks are: {[c.name for c in self.checks]}")

    def __str__(self) -> str:
        width = max(len(c.name) for c in self.checks)
        lines = []
        for c in self.checks:
            lines.append(f"{_MARK[c.status]} {c.name:<{width}}  {c.detail}")
            if c.fix:
                lines.append(f"  {'':<{width}}  fix: {c.fix}")
        failed = sum(c.status == "fail" for c in self.checks)
        warned = sum(c.status == "warning" for c in self.checks)
        lines.append(f"{len(self.checks)} checks: {failed} failed, {warned} warnings")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr style='background:{_COLOUR[c.status]}'><td>{c.status}</td>"
            f"<td>{html.escape(c.name)}</td><td>{html.escape(c.detail)}</td>"
            f"<td>{html.escape(c.fix)}</td></tr>"
            for c in self.checks
        )
        return (
            "<table><thead><tr><th>status</th><th>check</th><th>detail</th><th>fix</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )


_MARK = {"ok": "[ ok ]", "warning": "[warn]", "fail": "[FAIL]"}
_COLOUR = {"ok": "#e6f4ea", "warning": "#fff4d6", "fail": "#fde0dc"}


def _version_tuple(text: str) -> tuple[int, ...]:
    """'2.14.1+cu130' -> (2, 14, 1)."""
    return tuple(int(p) for p in re.findall(r"\d+", text.split("+")[0])[:3])


def check_python(version: tuple[int, int] | None = None) -> Check:
    """Is this Python one that TorchScript supports?"""
    major, minor = version or sys.version_info[:2]
    low, high = SUPPORTED_PYTHON
    supported = f"{low[0]}.{low[1]} to {high[0]}.{high[1]}"
    if low <= (major, minor) <= high:
        return Check("Python", "ok", f"{major}.{minor} (supported: {supported})")
    return Check(
        "Python",
        "fail",
        f"{major}.{minor} is not supported: TorchScript needs Python {supported}",
        f"install Python {high[0]}.{high[1] - 2} (e.g. `conda create -n deploy python=3.11`) and rerun the set-up",
    )


def check_torch() -> Check:
    """Is PyTorch installed, and is it the release the course is written for?"""
    try:
        import torch
    except Exception as exc:  # an ImportError, or a broken install raising anything
        return Check("PyTorch", "fail", f"cannot import torch: {exc}", "run `make lab` (or `pip install -e .`) in the course folder")
    version = torch.__version__
    if version.startswith(COURSE_TORCH + "."):
        return Check("PyTorch", "ok", version)
    if _version_tuple(version) < (1, 0):
        return Check("PyTorch", "fail", f"{version}: TorchScript needs PyTorch 1.0 or newer", "install the course's pins with `make lab`")
    return Check(
        "PyTorch",
        "warning",
        f"{version}: the course is tested with {COURSE_TORCH}.x; outputs may differ",
        "install the course's pins with `make lab`",
    )


def check_torchvision() -> Check:
    """Is torchvision installed, built for this torch, and do its C++ ops load?"""
    try:
        import torch
        import torchvision
        from torchvision.ops import nms

        version = torchvision.__version__
        # A torchvision built for another torch imports, then fails on its first native op.
        nms(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([1.0]), 0.5)
    except Exception as exc:
        return Check(
            "torchvision",
            "fail",
            f"torchvision does not work with this torch: {str(exc).splitlines()[0]}",
            "install the matching pair, e.g. `pip install torch==2.14.1 torchvision==0.29.1`",
        )
    tv, t = _version_tuple(version), _version_tuple(torch.__version__)
    # Each torchvision minor release is built for one torch minor release: 0.(m+15) <-> 2.m.
    if t[:1] == (2,) and tv[:2] != (0, t[1] + 15):
        return Check(
            "torchvision",
            "warning",
            f"{version} is meant for torch 2.{tv[1] - 15}, not {torch.__version__}",
            f"`pip install torchvision==0.{t[1] + 15}.*`",
        )
    return Check("torchvision", "ok", f"{version} (matches torch {torch.__version__})")


def check_torchscript() -> Check:
    """Can this torch still compile and run TorchScript?"""
    from .deprecation import quiet_torchscript_deprecation

    try:
        import torch

        def double(x):  # unannotated arguments are Tensors in TorchScript
            return x * 2

        with quiet_torchscript_deprecation():
            double = torch.jit.script(double)
        result = double(torch.ones(2))
        if result.tolist() != [2.0, 2.0]:
            raise RuntimeError(f"scripted function returned {result.tolist()}")
    except Exception as exc:
        return Check("TorchScript", "fail", f"torch.jit.script failed: {str(exc).splitlines()[0]}", "install the course's pins with `make lab`")
    return Check("TorchScript", "ok", "torch.jit.script compiles and runs")


def cuda_toolkit_dir() -> Path | None:
    """Where a complete CUDA toolkit (nvcc and the NVRTC library) is, if anywhere."""
    candidates = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH")]
    nvcc = shutil.which("nvcc")
    if nvcc:
        candidates.append(str(Path(nvcc).resolve().parent.parent))
    candidates.append("/usr/local/cuda")
    for c in filter(None, candidates):
        root = Path(c)
        has_nvcc = any((root / "bin" / n).exists() for n in ("nvcc", "nvcc.exe"))
        libs = [root / "lib64", root / "lib", root / "lib" / "x64", root / "bin"]
        has_nvrtc = any(p.name.startswith(("libnvrtc", "nvrtc")) for d in libs if d.is_dir() for p in d.iterdir())
        if has_nvcc and has_nvrtc:
            return root
    return None


def check_torch_build() -> Check:
    """CPU or CUDA wheel, and for CUDA: is the toolkit LibTorch's CMake files look for present?"""
    try:
        import torch
    except Exception:
        return Check("torch build", "fail", "torch is not importable", "run `make lab`")
    cuda = torch.version.cuda
    if cuda is None:
        return Check("torch build", "ok", "CPU build: the C++ side links without CUDA")
    toolkit = cuda_toolkit_dir()
    if toolkit:
        return Check("torch build", "ok", f"CUDA {cuda} build; CUDA toolkit found at {toolkit}")
    return Check(
        "torch build",
        "warning",
        f"CUDA {cuda} build, no complete CUDA toolkit: plain `find_package(Torch)` stops at configure",
        "nothing to do for this course: the C++ lesson's build links the CPU libraries directly",
    )


def find_cxx() -> str | None:
    """The C++ compiler CMake would pick: $CXX, else the usual names on PATH."""
    names = [os.environ["CXX"]] if os.environ.get("CXX") else []
    names += ["c++", "g++", "clang++", "cl"]
    for name in names:
        found = shutil.which(name.split()[0])
        if found:
            return found
    return None


_CXX20_PROBE = """
#include <concepts>
#if __cplusplus < 202002L && !defined(_MSVC_LANG)
#error not C++20
#endif
template <std::integral T> T twice(T x) { return 2 * x; }
int main() { return twice(0); }
"""


def _compiler_fix() -> str:
    if sys.platform == "darwin":
        return "run `xcode-select --install`"
    if sys.platform == "win32":
        return "install Visual Studio Build Tools with the 'Desktop development with C++' workload"
    return "install a compiler: `sudo apt install g++` (Debian/Ubuntu) or `conda install -c conda-forge cxx-compiler`"


def check_cxx20(compiler: str | None = None) -> Check:
    """Is there a C++ compiler, and does it compile C++20 (torch 2.14's headers need it)?"""
    cxx = compiler or find_cxx()
    if cxx is None or shutil.which(cxx) is None:
        return Check("C++20 compiler", "fail", "no C++ compiler found (looked at $CXX, c++, g++, clang++, cl)", _compiler_fix())
    msvc = Path(cxx).stem.lower() == "cl"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.cpp"
        src.write_text(_CXX20_PROBE)
        cmd = [cxx, "/nologo", "/std:c++20", "/c", str(src)] if msvc else [cxx, "-std=c++20", "-c", str(src), "-o", str(Path(tmp) / "probe.o")]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Check("C++20 compiler", "fail", f"{cxx} did not run: {exc}", _compiler_fix())
    if done.returncode != 0:
        first = next((ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()), "no message")
        return Check("C++20 compiler", "fail", f"{cxx} cannot compile C++20: {first}", "use a newer compiler (g++ 10+, clang 12+, MSVC 2019 16.10+)")
    return Check("C++20 compiler", "ok", f"{cxx} ({_command_first_line([cxx, '--version']) if not msvc else 'MSVC'})")


def _command_first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "version unknown"
    return next((ln.strip() for ln in (out.stdout + out.stderr).splitlines() if ln.strip()), "version unknown")


def check_cmake() -> Check:
    """Is CMake on PATH and new enough?"""
    cmake = shutil.which("cmake")
    fix = "`pip install cmake`, `conda install -c conda-forge cmake`, or your system's package (`sudo apt install cmake`, `brew install cmake`)"
    if cmake is None:
        return Check("CMake", "fail", "cmake is not on PATH", fix)
    line = _command_first_line([cmake, "--version"])
    version = _version_tuple(line.rsplit(" ", 1)[-1]) if "version" in line else ()
    if not version:
        return Check("CMake", "fail", f"{cmake} did not report a version ({line})", fix)
    shown = ".".join(map(str, version))
    if version[:2] < MIN_CMAKE:
        return Check("CMake", "fail", f"{shown} is too old: LibTorch needs {MIN_CMAKE[0]}.{MIN_CMAKE[1]} or newer", fix)
    return Check("CMake", "ok", f"{shown} at {cmake}")


def check_libtorch() -> Check:
    """Where are the LibTorch CMake files of the installed torch (for `find_package(Torch)`)?"""
    try:
        import torch.utils
    except Exception:
        return Check("LibTorch", "fail", "torch is not importable", "run `make lab`")
    prefix = Path(torch.utils.cmake_prefix_path)
    config = prefix / "Torch" / "TorchConfig.cmake"
    if not config.is_file():
        return Check("LibTorch", "fail", f"no TorchConfig.cmake under {prefix}", "reinstall torch with pip or conda (the wheel ships LibTorch)")
    # Relative to the torch package: the absolute path is one call away and differs per machine.
    shown = prefix.relative_to(Path(torch.__file__).parent.parent).as_posix()
    return Check("LibTorch", "ok", f"CMake files in {shown} (torch.utils.cmake_prefix_path)")


#: The checks `doctor()` runs, in order.
CHECKS: tuple[Callable[[], Check], ...] = (
    check_python,
    check_torch,
    check_torchvision,
    check_torchscript,
    check_torch_build,
    check_cxx20,
    check_cmake,
    check_libtorch,
)


def doctor() -> DoctorReport:
    """Check Python, PyTorch, torchvision, TorchScript, the C++ compiler, CMake and LibTorch."""
    return DoctorReport(tuple(check() for check in CHECKS))

