"""quiet_torchscript_deprecation hides exactly the TorchScript deprecation warning."""

from __future__ import annotations

import warnings

import torch
from torch import nn

import lessonkit


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:  # data-dependent: tracing warns
            return x
        return -x


def _trace(model: nn.Module) -> None:
    torch.jit.trace(model, torch.ones(2))


def _messages(caught: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def _deprecations(caught: list[warnings.WarningMessage]) -> list[str]:
    return [m for m in _messages(caught) if "torch.jit.trace` is deprecated" in m]


def _tracer_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [m for m in _messages(caught) if m.startswith("TracerWarning")]


# Each test starts from no filters at all (not pytest's, not Python's defaults) and
# "always": every warning is recorded every time, so only our helper can hide one.


def test_torchscript_warns_without_the_helper():
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        _trace(Branchy())
    assert _deprecations(caught), _messages(caught)
    assert _tracer_warnings(caught), _messages(caught)


def test_as_a_context_manager_it_hides_only_the_deprecation_and_restores():
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        before = list(warnings.filters)
        with lessonkit.quiet_torchscript_deprecation():
            _trace(Branchy())
        inside = list(caught)
        assert warnings.filters == before
        _trace(Branchy())
    after = caught[len(inside):]
    assert not _deprecations(inside), _messages(inside)
    assert _tracer_warnings(inside), "TracerWarning must stay visible"
    assert _deprecations(after), "the filter must end with the block"


def test_as_a_call_the_filter_stays():
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        lessonkit.quiet_torchscript_deprecation()
        _trace(Branchy())
        _trace(Branchy())
    assert not _deprecations(caught), _messages(caught)
    assert len(_tracer_warnings(caught)) >= 2


def test_other_deprecation_and_future_warnings_stay_visible():
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        lessonkit.quiet_torchscript_deprecation()
        warnings.warn("`torch.jit.script` is deprecated. Please switch to `torch.compile`.", FutureWarning)
        warnings.warn("`torch.jit.trace` is deprecated.", DeprecationWarning)
        warnings.warn("torch.load without weights_only is deprecated", FutureWarning)
        warnings.warn("`np.foo` is deprecated", DeprecationWarning)
    assert [str(w.message) for w in caught] == ["torch.load without weights_only is deprecated", "`np.foo` is deprecated"]


def test_import_has_no_side_effects():
    import subprocess
    import sys

    code = (
        # numpy and torch add filters of their own on import: take them first, then lessonkit.
        # The raw rcParams entry: reading it normally would resolve (and so set) the backend.
        "import warnings, sys, torch, torchvision, matplotlib; b = dict.__getitem__(matplotlib.rcParams, 'backend'); "
        "before = list(warnings.filters); "
        "import lessonkit; assert warnings.filters == before, 'filters changed'; "
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') == b, 'backend changed'; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
