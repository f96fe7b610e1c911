"""Every picture in images/ is made by images/make_images.py, and the script still makes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def test_make_images_redraws_every_committed_picture(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "images" / "make_images.py"), str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    made = {p.name for p in tmp_path.glob("*.png")}
    committed = {p.name for p in (ROOT / "images").glob("*.png")}
    assert made == committed, "images/ holds exactly what make_images.py draws"
    for name in made:
        fresh, stored = mpimg.imread(tmp_path / name), mpimg.imread(ROOT / "images" / name)
        assert fresh.shape == stored.shape, f"{name}: run `make images` and commit the result"
        # Font rasterisation may differ by a few pixels between machines; the picture may not.
        assert np.abs(fresh - stored).mean() < 0.01, f"{name} is out of date: run `make images`"
