"""Static checks on every lesson notebook: the course's conventions, enforced."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IMAGES = ROOT / "images"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _output_text(output: dict) -> str:
    if output["output_type"] == "stream":
        return "".join(output["text"])
    if output["output_type"] == "error":
        return "\n".join([output["ename"], output["evalue"], *output.get("traceback", [])])
    data = output.get("data", {})
    return "".join("".join(v) if isinstance(v, list) else str(v) for k, v in data.items() if k.startswith("text/"))


nb_param = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


def test_there_are_lessons():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


def test_names_are_numbered_and_consecutive():
    numbers = []
    for path in NOTEBOOKS:
        match = re.fullmatch(r"(\d\d)-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", path.name)
        assert match, f"{path.name}: lesson names look like 02-tracing.ipynb"
        numbers.append(int(match.group(1)))
    assert numbers == list(range(len(numbers))), f"lesson numbers must run 00, 01, ... without gaps: {numbers}"


@nb_param
def test_first_cell_is_title_objectives_and_time(path):
    first = _load(path)["cells"][0]
    text = _source(first)
    assert first["cell_type"] == "markdown", "the first cell must be markdown"
    assert re.match(r"# \S", text), "the first cell starts with an H1 title"
    assert re.search(r"you will learn", text, re.I), "the first cell says what the student will learn"
    assert re.search(r"\n\s*[-*] ", text), "learning objectives are a list"
    assert re.search(r"\b\d+\s*minutes\b", text), "the first cell says how many minutes the lesson takes"


@nb_param
def test_last_cell_is_summary_and_next_step(path):
    last = _load(path)["cells"][-1]
    text = _source(last)
    assert last["cell_type"] == "markdown", "the last cell must be markdown"
    assert re.search(r"^#+ .*summary", text, re.I | re.M), "the last cell has a Summary heading"
    assert re.search(r"\bnext\b", text, re.I), "the last cell says where to go next"


@nb_param
def test_every_code_cell_ran_in_order(path):
    cells = _code_cells(_load(path))
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, "every code cell is stored executed (run `make notebooks`)"
    assert counts == list(range(1, len(cells) + 1)), f"execution counts must be 1..{len(cells)} top to bottom: {counts}"


@nb_param
def test_no_pip_no_sys_path_no_warning_filters(path):
    for cell in _code_cells(_load(path)):
        src = _source(cell)
        assert not re.search(r"^\s*[!%]\s*pip\b", src, re.M), "no `!pip install` in lessons"
        assert "sys.path" not in src, "notebooks import lessonkit; they never edit sys.path"
        # TracerWarning is a lesson: only lessonkit.quiet_torchscript_deprecation() filters.
        assert not re.search(r"warnings\.(filterwarnings|simplefilter)", src), "use lessonkit's helper, not warning filters"


@nb_param
def test_no_trailing_semicolon_and_plots_end_with_show(path):
    for cell in _code_cells(_load(path)):
        lines = [ln for ln in _source(cell).splitlines() if ln.strip() and not ln.strip().startswith("#")]
        if not lines:
            continue
        assert not lines[-1].rstrip().endswith(";"), f"a cell ends with ';' (nbval issue 194): {lines[-1]!r}"
        # A plot cell draws at top level (a plt call inside a def draws nothing yet).
        if re.search(r"^(\w+(, *\w+)*(, *\(\w+(, *\w+)*\))? = )?(plt\.(subplots|figure|imshow|plot)|lessonkit\.draw_graph)\(", _source(cell), re.M):
            assert lines[-1].strip() == "plt.show()", f"plot cells end with plt.show(): {lines[-1]!r}"


@nb_param
def test_outputs_have_no_svg_and_no_machine_paths(path):
    for cell in _code_cells(_load(path)):
        for output in cell.get("outputs", []):
            assert "image/svg+xml" not in output.get("data", {}), "no SVG outputs"
            # PyTorch's warnings and tracebacks name its own files in the Python environment
            # (".../site-packages/torch/jit/_trace.py:1232"): that part is not the author's.
            text = re.sub(r"[^\s\"'(]*site-packages[/\\]", "<site-packages>/", _output_text(output))
            for pattern in (r"/home/\w+", r"/Users/\w+", r"[A-Z]:\\Users", r"/root/", str(ROOT)):
                assert not re.search(pattern if pattern != str(ROOT) else re.escape(pattern), text), (
                    f"stored output shows a path of the author's machine ({pattern}): {text[:200]!r}"
                )


@nb_param
def test_error_cells_are_tagged_and_tagged_cells_raise(path):
    for cell in _code_cells(_load(path)):
        tagged = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        raised = any(o["output_type"] == "error" for o in cell.get("outputs", []))
        assert tagged == raised, f"cell {_source(cell)[:80]!r}: tagged raises-exception={tagged}, raised={raised}"


@nb_param
def test_exercises_have_solution_markers_and_a_check(path):
    cells = _load(path)["cells"]
    for i, cell in enumerate(cells):
        src = _source(cell)
        begins, ends = src.count("### BEGIN SOLUTION"), src.count("### END SOLUTION")
        assert begins == ends, f"unbalanced solution markers in {src[:80]!r}"
        if begins:
            assert cell["cell_type"] == "code"
            assert src.index("### BEGIN SOLUTION") < src.index("### END SOLUTION")
            assert cells[i - 1]["cell_type"] == "markdown", "an exercise starts with a markdown task"
            following = cells[i + 1]
            assert following["cell_type"] == "code" and re.search(r"lessonkit\.check_\w+\(", _source(following)), (
                "the cell after a solution calls a lessonkit checker"
            )


def _image_links(text: str) -> list[str]:
    return re.findall(r"\(\.\./images/([^)\s]+)\)|src=[\"']\.\./images/([^\"']+)", text)


def test_image_links_resolve_and_every_image_is_used():
    used = set()
    for path in NOTEBOOKS:
        for cell in _load(path)["cells"]:
            if cell["cell_type"] == "markdown":
                for pair in _image_links(_source(cell)):
                    name = next(p for p in pair if p)
                    assert (IMAGES / name).is_file(), f"{path.name} links ../images/{name}, which does not exist"
                    used.add(name)
    pictures = {p.name for p in IMAGES.iterdir() if p.suffix in {".png", ".jpg", ".jpeg", ".gif"}}
    assert pictures - used == set(), f"images nobody links: {sorted(pictures - used)}"


@nb_param
def test_deprecation_warning_is_shown_at_most_once(path):
    showing = [
        _source(cell)[:60]
        for cell in _code_cells(_load(path))
        if any(re.search(r"torch\.jit\.[\w.]+` is deprecated", _output_text(o)) for o in cell.get("outputs", []))
    ]
    assert len(showing) <= 1, f"the TorchScript FutureWarning is shown in {len(showing)} cells: {showing}"
