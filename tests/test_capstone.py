"""The capstone: data split, a quickly trained DigitsCNN, and the C++ classify app on good and bad images."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch
from torch import nn

from lessonkit import cpp
from lessonkit.capstone import CLASS_NAMES, PIXEL_MAX, DigitsCNN, digits_split


@pytest.fixture(scope="module")
def data():
    return digits_split(seed=0)


@pytest.fixture(scope="module")
def trained(data):
    torch.manual_seed(0)
    model = DigitsCNN()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    images, labels = data["train"]
    for _ in range(6):
        model.train()
        for start in range(0, len(labels), 64):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images[start : start + 64]), labels[start : start + 64]).backward()
            optimizer.step()
    return model.eval()


@pytest.fixture(scope="module")
def archive(trained, tmp_path_factory):
    path = tmp_path_factory.mktemp("capstone") / "digits.pt"
    extra = {"classes.txt": "\n".join(CLASS_NAMES), "input.txt": f"height=8\nwidth=8\npixel_max={PIXEL_MAX:g}"}
    torch.jit.script(trained).save(str(path), _extra_files=extra)
    return path


def test_split_is_fixed_disjoint_and_complete(data):
    sizes = {name: len(labels) for name, (_, labels) in data.items()}
    assert sizes == {"test": 300, "validation": 300, "train": 1197}
    again = digits_split(seed=0)
    assert all(torch.equal(data[k][0], again[k][0]) for k in data)
    images = torch.cat([data[k][0] for k in data]).flatten(1)
    assert len(torch.unique(images, dim=0)) > 1700 and images.max() == PIXEL_MAX and images.min() == 0
    assert not torch.equal(digits_split(seed=1)["test"][1], data["test"][1])


def test_a_short_training_reaches_95_percent(trained, data):
    images, labels = data["test"]
    with torch.no_grad():
        assert (trained(images).argmax(1) == labels).float().mean() >= 0.95


def _classify(*args):
    return subprocess.run([cpp.program("classify"), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_cpp_agrees_with_python_on_the_whole_test_set(archive, trained, data, tmp_path):
    images, _ = data["test"]
    torch.save(images, tmp_path / "test.pt")
    done = _classify(archive, "--tensor", tmp_path / "test.pt", "--save-logits", tmp_path / "logits.pt")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 301 and lines[-1].startswith("wrote the logits of 300 images")
    logits = torch.load(tmp_path / "logits.pt", weights_only=True)
    with torch.no_grad():
        expected = trained(images)
    assert torch.equal(logits.argmax(1), expected.argmax(1))
    torch.testing.assert_close(logits, expected)
    printed = [line.split(": ")[1].split("  (")[0] for line in lines[:-1]]
    assert printed == [CLASS_NAMES[i] for i in expected.argmax(1)]


def _pgm(path: Path, image: torch.Tensor, maxval: int = 16, binary: bool = False) -> Path:
    values = (image[0] * maxval / PIXEL_MAX).round().to(torch.int64)
    h, w = values.shape
    if binary:
        body = bytes(values.flatten().tolist()) if maxval < 256 else b"".join(int(v).to_bytes(2, "big") for v in values.flatten())
        path.write_bytes(f"P5\n# made by a test\n{w} {h}\n{maxval}\n".encode() + body)
    else:
        path.write_text(f"P2\n{w} {h}\n{maxval}\n" + "\n".join(" ".join(map(str, row.tolist())) for row in values) + "\n")
    return path


def test_pgm_variants_give_pythons_labels(archive, trained, data, tmp_path):
    images, _ = data["test"]
    files = [
        _pgm(tmp_path / "text.pgm", images[0]),
        _pgm(tmp_path / "binary.pgm", images[1], maxval=16, binary=True),
        _pgm(tmp_path / "byte.pgm", images[2], maxval=255, binary=True),
        _pgm(tmp_path / "wide.pgm", images[3], maxval=1000, binary=True),
    ]
    done = _classify(archive, *files)
    assert done.returncode == 0, done.stderr
    with torch.no_grad():
        expected = [CLASS_NAMES[i] for i in trained(images[:4]).argmax(1)]
    printed = [line.split(": ")[1].split("  (")[0] for line in done.stdout.strip().splitlines()]
    assert printed == expected


def test_bad_images_get_clear_errors_and_the_good_ones_are_still_classified(archive, data, tmp_path):
    good = _pgm(tmp_path / "good.pgm", data["test"][0][0])
    small = _pgm(tmp_path / "small.pgm", torch.zeros(1, 4, 4))
    (tmp_path / "text.pgm").write_text("just some words")
    (tmp_path / "short.pgm").write_bytes(b"P5\n8 8\n255\n" + bytes(20))
    (tmp_path / "header.pgm").write_text("P2\n8")
    (tmp_path / "toobig.pgm").write_text("P2\n8 8\n16\n" + "17 " * 64)
    (tmp_path / "words.pgm").write_text("P2\neight 8\n16\n")
    done = _classify(archive, good, small, *(tmp_path / n for n in ("text.pgm", "short.pgm", "header.pgm", "toobig.pgm", "words.pgm", "missing.pgm")))
    assert done.returncode == 1
    assert done.stdout.startswith(f"{good}: ")
    errors = done.stderr.strip().splitlines()
    assert all(e.startswith("error: ") for e in errors) and len(errors) == 7
    for expected in ("small.pgm is 4x4 pixels; the model expects 8x8", "text.pgm is not a PGM image", "short.pgm: the pixel data is truncated",
                     "header.pgm: the PGM header ends early", "toobig.pgm: a pixel value 17 exceeds the maximum 16",
                     "words.pgm: the PGM width should be a whole number of at least 1, got 'eight'", "image file not found"):
        assert expected in done.stderr, expected


def test_archive_and_argument_errors(archive, trained, tmp_path, data):
    bare = tmp_path / "bare.pt"
    torch.jit.script(trained).save(str(bare))
    image = _pgm(tmp_path / "one.pgm", data["test"][0][0])
    cases = [
        ([bare, image], 1, "lacks extra/classes.txt or extra/input.txt"),
        ([tmp_path / "none.pt", image], 1, "model file not found"),
        ([archive], 2, "give either PGM images or --tensor"),
        ([archive, image, "--save-logits", tmp_path / "x.pt"], 2, "--save-logits goes with --tensor"),
        ([archive, "--bogus"], 2, "unknown option --bogus"),
        ([], 2, "no model given"),
    ]
    torch.save(torch.zeros(2, 3, 8, 8), tmp_path / "rgb.pt")
    cases.append(([archive, "--tensor", tmp_path / "rgb.pt"], 1, "holds images of shape [2, 3, 8, 8] Float; the model expects [N, 1, 8, 8]"))
    for args, status, message in cases:
        done = _classify(*args)
        assert done.returncode == status and message in done.stderr, (args, done.stderr)
    assert not (tmp_path / "x.pt").exists()
