"""lessonkit: the helpers of the course on deploying PyTorch models.

Each module maps to a lesson concept:

- `environment`: is this machine ready? (`doctor`)
- `deprecation`: hide exactly the TorchScript deprecation warning

Importing lessonkit changes nothing: no warning filters, no matplotlib backend.
"""

from .deprecation import quiet_torchscript_deprecation
from .environment import Check, DoctorReport, doctor

__all__ = [
    "Check",
    "DoctorReport",
    "doctor",
    "quiet_torchscript_deprecation",
]
