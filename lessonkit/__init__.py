"""lessonkit: the helpers of the course on deploying PyTorch models.

Each module maps to a lesson concept:

- `environment`: is this machine ready? (`doctor`)
- `deprecation`: hide exactly the TorchScript deprecation warning
- `graph`: TorchScript graphs as pictures, DOT and clean text (`draw_graph`, `graph_of`)
- `crosscheck`: do eager, traced, scripted, reloaded and C++ outputs agree? (`crosscheck`)
- `tracing`: what tracing got wrong, in plain words (`trace_report`)
- `exercises`: the checkers of the lessons' exercises (`check_*`)
- `cpp`: build cpp_demo with CMake and run its programs (`cpp.build`, `cpp.run`, `cpp.candidate`)
- `capstone`: the capstone's data split and model (`capstone.digits_split`, `capstone.DigitsCNN`)

Importing lessonkit changes nothing: no warning filters, no matplotlib backend.
"""

from . import capstone, cpp
from .crosscheck import Comparison, CrosscheckReport, crosscheck
from .deprecation import quiet_torchscript_deprecation
from .environment import Check, DoctorReport, doctor
from .exercises import (
    ExerciseError,
    check_any_batch_in_cpp,
    check_any_batch_size,
    check_class_names_in_cpp,
    check_frozen,
    check_halve_until_small,
    check_runs_in_cpp,
    check_saved_with_metadata,
    check_scriptable_classifier,
    check_sign_gate,
)
from .graph import Graph, code_of, draw_graph, graph_of, graph_text
from .tracing import TraceProblem, TraceReport, trace_report

__all__ = [
    "Check",
    "Comparison",
    "CrosscheckReport",
    "DoctorReport",
    "ExerciseError",
    "Graph",
    "TraceProblem",
    "TraceReport",
    "check_any_batch_in_cpp",
    "check_any_batch_size",
    "check_class_names_in_cpp",
    "check_frozen",
    "check_halve_until_small",
    "check_runs_in_cpp",
    "check_saved_with_metadata",
    "check_scriptable_classifier",
    "check_sign_gate",
    "capstone",
    "code_of",
    "cpp",
    "crosscheck",
    "doctor",
    "draw_graph",
    "graph_of",
    "graph_text",
    "quiet_torchscript_deprecation",
    "trace_report",
]
