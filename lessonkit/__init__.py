"""lessonkit: the helpers of the course on deploying PyTorch models.

Each module maps to a lesson concept:

- `environment`: is this machine ready? (`doctor`)
- `deprecation`: hide exactly the TorchScript deprecation warning
- `graph`: TorchScript graphs as pictures, DOT and clean text (`draw_graph`, `graph_of`)
- `crosscheck`: do eager, traced, scripted, reloaded and C++ outputs agree? (`crosscheck`)
- `tracing`: what tracing got wrong, in plain words (`trace_report`)

Importing lessonkit changes nothing: no warning filters, no matplotlib backend.
"""

from .crosscheck import Comparison, CrosscheckReport, crosscheck
from .deprecation import quiet_torchscript_deprecation
from .environment import Check, DoctorReport, doctor
from .graph import Graph, code_of, draw_graph, graph_of, graph_text
from .tracing import TraceProblem, TraceReport, trace_report

__all__ = [
    "Check",
    "Comparison",
    "CrosscheckReport",
    "DoctorReport",
    "Graph",
    "TraceProblem",
    "TraceReport",
    "code_of",
    "crosscheck",
    "doctor",
    "draw_graph",
    "graph_of",
    "graph_text",
    "quiet_torchscript_deprecation",
    "trace_report",
]
