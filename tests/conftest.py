"""Shared fixtures: small models with known control flow, and torchvision models (weights=None)."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn


class Gate(nn.Module):
    """A data-dependent branch and a loop: what tracing cannot capture and scripting can."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            y = self.linear(x)
        else:
            y = -self.linear(x)
        for _ in range(2):
            y = torch.relu(y) * 2
        return y


@pytest.fixture(scope="session")
def gate() -> nn.Module:
    torch.manual_seed(0)
    return Gate().eval()


@pytest.fixture(scope="session")
def resnet18() -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).eval()


@pytest.fixture(scope="session")
def mobilenet() -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.mobilenet_v3_small(weights=None).eval()


@pytest.fixture(scope="session")
def segmenter() -> nn.Module:
    """A torchvision model whose output is a dict ({'out': logits})."""
    torch.manual_seed(0)
    return torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None).eval()
