"""Command line: `python -m lessonkit doctor`."""

from __future__ import annotations

import argparse
import sys

from .environment import doctor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lessonkit", description="Helpers of the PyTorch deployment course.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check Python, PyTorch, the C++ compiler, CMake and LibTorch")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        report = doctor()
        print(report)
        return 0 if report.ok else 1
    return 2  # unreachable: argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
