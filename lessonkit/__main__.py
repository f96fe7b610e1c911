"""Command line: `python -m lessonkit doctor` and `python -m lessonkit build-cpp`."""

from __future__ import annotations

import argparse
import sys

from .environment import doctor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lessonkit", description="Helpers of the PyTorch deployment course.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check Python, PyTorch, the C++ compiler, CMake and LibTorch")
    cpp = commands.add_parser("build-cpp", help="build cpp_demo against the installed PyTorch (or --libtorch DIR)")
    cpp.add_argument("--libtorch", help="an unzipped LibTorch folder to build against instead")
    cpp.add_argument("--check", action="store_true", help="then run a traced model in C++ and compare it with Python")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        report = doctor()
        print(report)
        return 0 if report.ok else 1
    if args.command == "build-cpp":
        from .cpp import CppBuildError, CppRunError, build, smoke_test

        try:
            print(f"programs in {build(libtorch=args.libtorch)}")
            if args.check:
                report = smoke_test()
                print(report)
                return 0 if report.ok else 1
        except (CppBuildError, CppRunError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    return 2  # unreachable: argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
