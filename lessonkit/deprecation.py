"""Silence exactly one warning: "torch.jit.X is deprecated".

PyTorch 2.13 marks TorchScript's entry points with a `DeprecationWarning`, 2.14
with a `FutureWarning` that Python shows every time. Lessons explain it once,
then use this helper. Everything else, `TracerWarning` above all, stays visible.
"""

from __future__ import annotations

import warnings
from types import TracebackType

#: Matches the start of the message torch 2.13/2.14 give, e.g.
#: "`torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`."
TORCHSCRIPT_DEPRECATION = r"`?torch\.jit\.[\w.]+`? is deprecated"


class quiet_torchscript_deprecation:  # noqa: N801 (used like a function, as torch.no_grad is)
    """Hide the TorchScript deprecation warnings and nothing else.

    Called on its own line, the filter stays for the rest of the session::

        lessonkit.quiet_torchscript_deprecation()

    Used with ``with``, it lasts for the block and the previous filters come back::

        with lessonkit.quiet_torchscript_deprecation():
            traced = torch.jit.trace(model, example)
    """

    def __init__(self) -> None:
        # catch_warnings saves the filters now and restores them in __exit__;
        # a plain call never exits, so its filter stays.
        self._saved = warnings.catch_warnings()
        self._saved.__enter__()
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", message=TORCHSCRIPT_DEPRECATION, category=category)

    def __repr__(self) -> str:
        return "TorchScript deprecation warnings hidden; every other warning still shows"

    def __enter__(self) -> quiet_torchscript_deprecation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._saved.__exit__(exc_type, exc, tb)
