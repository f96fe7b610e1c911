"""Lesson 05: the capstone's data and model, in one place for the lesson and the benchmark.

The data are scikit-learn's bundled handwritten digits (1,797 real 8x8 images, pixel values
0 to 16), which load offline. The model takes those raw pixel values: scaling is part of the
model, so a C++ program feeds the pixels as they are.
"""

from __future__ import annotations

import torch
from torch import nn

#: Full intensity in load_digits' images; the model divides by it.
PIXEL_MAX = 16.0
CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def digits_split(seed: int = 0, validation: int = 300, test: int = 300) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """load_digits as {"train"|"validation"|"test": (images [N, 1, 8, 8] float, labels [N])}, split at random with `seed`."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    parts = {"test": order[:test], "validation": order[test : test + validation], "train": order[test + validation :]}
    return {name: (images[index], labels[index]) for name, index in parts.items()}


class DigitsCNN(nn.Module):
    """Three convolution blocks and a linear classifier for 8x8 digits with pixel values 0..16."""

    def __init__(self, channels: tuple[int, int, int] = (16, 32, 64), dropout: float = 0.2, classes: int = 10) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.register_buffer("pixel_max", torch.tensor(PIXEL_MAX))
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c3, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x / self.pixel_max))
