"""Lessons 03-05: build cpp_demo against the installed PyTorch, and run its programs.

`build()` configures and builds `cpp_demo/` with CMake. It picks how to find LibTorch:

- an official LibTorch folder, when you pass `libtorch=`: `find_package(Torch)` with it;
- the installed torch, CPU wheel or CUDA wheel with a CUDA toolkit: `find_package(Torch)`
  with `torch.utils.cmake_prefix_path`;
- the installed torch, CUDA wheel without a CUDA toolkit (most Linux laptops): there
  `find_package(Torch)` stops at configure, so the CPU libraries inside the wheel are
  linked directly (`-DTORCH_PACKAGE_DIR`, see cpp_demo/CMakeLists.txt).

`run()` sends tensors to `run_model` and reads its outputs back, so "C++" can be one more
candidate in `lessonkit.crosscheck`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import torch

from .crosscheck import CrosscheckReport, crosscheck
from .deprecation import quiet_torchscript_deprecation
from .environment import cuda_toolkit_dir

CPP_DEMO = Path(__file__).resolve().parents[1] / "cpp_demo"
_EXE = ".exe" if sys.platform == "win32" else ""
_last_build: dict[str, Path] = {}  # "programs" -> the folder of the last build() in this process


class CppBuildError(RuntimeError):
    """Configuring or compiling failed; the message holds the first error and a hint."""


class CppRunError(RuntimeError):
    """A cpp_demo program exited with an error; the message is the program's own."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


def cmake_arguments(libtorch: str | Path | None = None) -> tuple[list[str], str]:
    """The CMake arguments that find LibTorch here, and a name for their build folder."""
    if libtorch is not None:
        root = Path(libtorch).expanduser().resolve()
        prefix = next((p for p in (root, root / "share" / "cmake") if (p / "Torch" / "TorchConfig.cmake").is_file()), None)
        if prefix is None:
            raise CppBuildError(
                f"{root} is not a LibTorch folder: it has no share/cmake/Torch/TorchConfig.cmake. "
                "Pass the unzipped libtorch/ folder (or the torch package folder)."
            )
        digest = hashlib.sha256(str(prefix).encode()).hexdigest()[:8]
        return [f"-DCMAKE_PREFIX_PATH={prefix}"], f"libtorch-{digest}"
    version = re.sub(r"[^\w.]+", "_", torch.__version__)
    if torch.version.cuda is not None and cuda_toolkit_dir() is None:
        torch_dir = Path(torch.__file__).parent
        abi = int(torch._C._GLIBCXX_USE_CXX11_ABI)
        return [f"-DTORCH_PACKAGE_DIR={torch_dir}", f"-DTORCH_CXX11_ABI={abi}"], f"torch-{version}-direct"
    return [f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}"], f"torch-{version}"


# (pattern in the build output, hint) - the first that matches is shown.
_HINTS: list[tuple[str, str]] = [
    (r"C\+\+20 or later|unrecognized command.line option .-std=c\+\+20|invalid value 'c\+\+20'",
     "PyTorch 2.14's headers need C++20: keep `set(CMAKE_CXX_STANDARD 20)` and use g++ 10+, clang 12+ or MSVC 2019 16.10+."),
    (r"No CMAKE_CXX_COMPILER could be found|CMAKE_CXX_COMPILER not set|no such file or directory.*c\+\+",
     "No C++ compiler was found: run lessonkit.doctor() for how to install one."),
    (r"uses CUDA but I cannot find the CUDA libraries|CUDA_nvrtc_LIBRARY",
     "This torch is a CUDA build and CMake cannot find a CUDA toolkit. build() without `libtorch=` links "
     "the CPU libraries directly; or install the CPU wheel (or LibTorch's CPU zip)."),
    (r'package configuration file provided by\s+"Torch"|Could not find a package configuration file',
     "CMake cannot find LibTorch: pass a folder holding share/cmake/Torch as `libtorch=`, or leave it out to use the installed torch."),
    (r"undefined reference|unresolved external symbol",
     "The program does not link against this LibTorch: a different version or C++ ABI "
     "(_GLIBCXX_USE_CXX11_ABI) than the headers it was compiled with. Delete the build folder and build again."),
]


def _first_error(output: str) -> str:
    """CMake's first error message (its lines joined), else the compiler's or linker's first error line."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("CMake Error"):
            message = []
            for follow in lines[i + 1 :]:
                if not follow.strip() or follow.startswith("Call Stack"):
                    break
                message.append(follow.strip())
            return " ".join(message) or line.strip()
    for line in lines:
        if re.search(r"\berror\b:|\berror C\d+|undefined reference|fatal error", line):
            return line.strip()
    tail = [ln.strip() for ln in lines if ln.strip()]
    return tail[-1] if tail else "no output"


def _failure(step: str, output: str) -> CppBuildError:
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)  # colours, which CMake and compilers add in some terminals
    flat = re.sub(r"\s+", " ", output)  # CMake wraps its messages over several lines
    hint = next((h for pattern, h in _HINTS if re.search(pattern, flat, re.I)), "Read the first error above; run lessonkit.doctor() to check the tool-chain.")
    return CppBuildError(f"{step} failed: {_first_error(output)}\nhint: {hint}")


def _run_streaming(cmd: list[str], show: Callable[[str], bool]) -> tuple[int, str]:
    """Run a command, print the lines `show` accepts as they come, return (status, all output)."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if show(line):
                print("  " + line.rstrip(), flush=True)
    return proc.returncode, "".join(lines)


def build(
    *,
    libtorch: str | Path | None = None,
    source: str | Path = CPP_DEMO,
    build_root: str | Path | None = None,
    jobs: int | None = None,
    quiet: bool = False,
) -> Path:
    """Configure (once) and build cpp_demo; return the folder that holds its programs.

    Progress lines (`[ 50%] Building ...`) are printed unless `quiet`. A failure raises
    `CppBuildError` with the compiler's first error and a hint. Builds go to
    `cpp_demo/build/<name>`, one folder per LibTorch, so switching does not mix them.
    """
    cmake = shutil.which("cmake")
    if cmake is None:
        raise CppBuildError("cmake is not on PATH\nhint: `pip install cmake` or your system's package; lessonkit.doctor() says more")
    source = Path(source).resolve()
    args, name = cmake_arguments(libtorch)
    build_dir = (Path(build_root) if build_root else source / "build") / name
    config = "\n".join(["-DCMAKE_BUILD_TYPE=Release", *args])
    stamp = build_dir / "lessonkit-configure.txt"
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))

    if not (build_dir / "CMakeCache.txt").is_file() or not stamp.is_file() or stamp.read_text() != config:
        say(f"configuring {source.name} in {build_dir.relative_to(source) if build_dir.is_relative_to(source) else build_dir}")
        build_dir.mkdir(parents=True, exist_ok=True)
        stamp.unlink(missing_ok=True)
        done = subprocess.run([cmake, "-S", str(source), "-B", str(build_dir), *config.splitlines()], capture_output=True, text=True)
        if done.returncode != 0:
            raise _failure("configure", done.stdout + done.stderr)
        stamp.write_text(config)
    start = time.perf_counter()
    cmd = [cmake, "--build", str(build_dir), "--config", "Release", "--parallel", str(jobs or os.cpu_count() or 2)]
    status, output = _run_streaming(cmd, show=lambda line: not quiet and bool(re.match(r"\[\s*\d+%\]", line)))
    if status != 0:
        raise _failure("build", output)
    compiled = len(re.findall(r"Building CXX object", output))
    say(f"built in {time.perf_counter() - start:.1f} s ({compiled} file{'s' if compiled != 1 else ''} compiled)")
    programs = build_dir / "Release" if (build_dir / "Release" / f"run_model{_EXE}").is_file() else build_dir
    _last_build["programs"] = programs
    return programs


def program(name: str = "run_model") -> Path:
    """The path of a cpp_demo program, from the last build() (building quietly if none yet)."""
    folder = _last_build.get("programs") or build(quiet=True)
    path = folder / f"{name}{_EXE}"
    if not path.is_file():
        raise CppRunError(f"no program {name!r} in {folder}: the programs are {sorted(p.name for p in folder.iterdir() if p.is_file() and os.access(p, os.X_OK))}", 2)
    return path


def run_program(args: Sequence[str | Path], *, name: str = "run_model", timeout: float = 600) -> str:
    """Run a cpp_demo program; return its standard output, or raise CppRunError with its message."""
    done = subprocess.run([str(program(name)), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        message = done.stderr.strip() or done.stdout.strip() or f"{name} exited with status {done.returncode}"
        raise CppRunError(message.removeprefix("error: "), done.returncode)
    return done.stdout


def _as_tensors(inputs: Any) -> list[torch.Tensor]:
    items = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    for i, item in enumerate(items):
        if not isinstance(item, torch.Tensor):
            raise TypeError(f"input {i} is a {type(item).__name__}; run_model takes tensors")
    return [t.detach().contiguous() for t in items]


def _run_model(model_path: str | Path, inputs: Any, repeat: int, threads: int | None) -> tuple[Any, str]:
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    with tempfile.TemporaryDirectory(prefix="lessonkit-cpp-") as tmp:
        inputs_file, outputs_file = Path(tmp) / "inputs.pt", Path(tmp) / "outputs.pt"
        torch.save(_as_tensors(inputs), inputs_file)
        args = [model_path, inputs_file, outputs_file, "--repeat", str(repeat)]
        if threads is not None:
            args += ["--threads", str(threads)]
        stdout = run_program(args)
        return torch.load(outputs_file, weights_only=True), stdout


def run(model_path: str | Path, inputs: Any, *, repeat: int = 1, threads: int | None = None) -> Any:
    """Run a TorchScript file in C++ (`run_model`) on `inputs` (a tensor or a sequence of tensors).

    Returns the outputs as Python's torch.load reads them: a tensor, or a tuple of tensors.
    """
    return _run_model(model_path, inputs, repeat, threads)[0]


class Latency(NamedTuple):
    """Milliseconds per `forward` call, over the repeats after three warm-up calls."""

    median: float
    min: float
    p25: float
    p75: float


def latency(model_path: str | Path, inputs: Any, *, repeat: int = 50, threads: int | None = None) -> Latency:
    """How long `forward` takes in C++ (run_model --repeat): median, minimum and quartiles in ms."""
    stdout = _run_model(model_path, inputs, max(repeat, 2), threads)[1]
    number = r"([\d.e+-]+) ms"
    match = re.search(rf"latency: median {number}, min {number}, p25 {number}, p75 {number}", stdout)
    if match is None:
        raise CppRunError(f"run_model printed no latency:\n{stdout}", 0)
    return Latency(*(float(g) for g in match.groups()))


def candidate(model_path: str | Path, *, threads: int | None = None) -> Callable[..., Any]:
    """A callable running the model in C++, for `crosscheck(model, {"C++": candidate(path)}, inputs)`."""

    def run_in_cpp(*inputs: torch.Tensor) -> Any:
        return run(model_path, inputs, threads=threads)

    return run_in_cpp


def smoke_test() -> CrosscheckReport:
    """Trace a small model, run it with run_model, and compare with Python: does the C++ side work?"""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval()
    with tempfile.TemporaryDirectory(prefix="lessonkit-smoke-") as tmp, quiet_torchscript_deprecation():
        path = Path(tmp) / "smoke.pt"
        torch.jit.trace(model, torch.randn(2, 4)).save(str(path))
        return crosscheck(model, {f"C++ (LibTorch {torch.__version__})": candidate(path)}, [torch.randn(2, 4), torch.randn(7, 4)])
