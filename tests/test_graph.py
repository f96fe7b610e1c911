"""lessonkit.graph: the plain graph, the picture, DOT and text views."""

from __future__ import annotations

import re

import matplotlib
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

import lessonkit
from lessonkit.graph import family

matplotlib.use("Agg")


def _ops(graph: lessonkit.Graph) -> list[str]:
    return graph.kinds()


def test_graph_iteration_api_is_what_we_rely_on():
    # graph_of uses only these members; a torch upgrade that changes them fails here first.
    def f(x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) + 1

    g = torch.jit.script(f).graph
    node = next(n for n in g.nodes() if n.kind() == "aten::relu")
    for attr in ("kind", "inputs", "outputs", "blocks", "scopeName", "outputsSize", "inputsAt", "s", "output", "sourceRange"):
        assert hasattr(node, attr), f"torch.Node lost {attr}"
    value = node.output()
    for attr in ("debugName", "unique", "type", "node", "toIValue"):
        assert hasattr(value, attr), f"torch.Value lost {attr}"
    assert [v.debugName() for v in g.inputs()] == ["x.1"]


def test_scripted_branch_and_loop_become_groups(gate):
    graph = lessonkit.graph_of(torch.jit.script(gate))
    kinds = _ops(graph)
    assert kinds.count("prim::If") == 1 and kinds.count("prim::Loop") == 1
    assert kinds.count("aten::linear") == 2  # one in each branch, inlined
    assert "prim::Constant" not in kinds and "prim::GetAttr" not in kinds
    labels = sorted(g.label for g in graph.groups)
    assert labels == ["body", "else", "then"]
    by_id = {n.id: n for n in graph.nodes}
    then = next(g for g in graph.groups if g.label == "then")
    assert by_id[then.owner].kind == "prim::If"
    assert [n.kind for n in graph.nodes if n.group == then.id] == ["aten::linear"]
    # Data flows from the input into both branches and from both branches on.
    x = next(n.id for n in graph.nodes if n.kind == "input")
    linears = [n.id for n in graph.nodes if n.kind == "aten::linear"]
    assert all(any(e.source == x and e.target == lin for e in graph.edges) for lin in linears)
    out = next(n.id for n in graph.nodes if n.kind == "output")
    assert any(e.target == out for e in graph.edges)


def _trace_gate(gate):
    with pytest.warns(torch.jit.TracerWarning, match="Python boolean"):
        return torch.jit.trace(gate, torch.ones(1, 4))


def test_an_empty_branch_is_drawn_as_a_node_that_hands_its_value_through():
    def gate(x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x
        return -x

    graph = lessonkit.graph_of(torch.jit.script(gate))
    then = next(g for g in graph.groups if g.label == "then")
    (placeholder,) = [n for n in graph.nodes if n.group == then.id]
    assert placeholder.kind == "block" and placeholder.label == "returns x"
    x = next(n.id for n in graph.nodes if n.kind == "input")
    out = next(n.id for n in graph.nodes if n.kind == "output")
    assert any(e.source == x and e.target == placeholder.id for e in graph.edges)
    assert any(e.source == placeholder.id and e.target == out for e in graph.edges)
    assert "block" not in graph.kinds()


def test_traced_branch_has_no_if(gate):
    traced = _trace_gate(gate)
    kinds = _ops(lessonkit.graph_of(traced))
    assert "prim::If" not in kinds and "prim::Loop" not in kinds
    assert kinds.count("aten::relu") == 2  # the loop was unrolled


def test_constants_can_be_shown_and_inline_can_be_off(gate):
    scripted = torch.jit.script(gate)
    full = lessonkit.graph_of(scripted, hide_constants=False)
    assert "prim::Constant" in full.kinds() and "prim::GetAttr" in full.kinds()
    outer = lessonkit.graph_of(scripted, inline=False)
    assert "prim::CallMethod" in outer.kinds() and "aten::linear" not in outer.kinds()
    assert any(n.label == "linear.forward()" for n in outer.nodes)


def test_torchvision_models(resnet18, mobilenet):
    example = torch.randn(1, 3, 64, 64)
    traced = lessonkit.graph_of(torch.jit.trace(resnet18, example))
    kinds = traced.kinds()
    assert kinds.count("aten::_convolution") == 20 and kinds.count("aten::linear") == 1
    assert {n.scope for n in traced.nodes if n.kind == "aten::linear"} == {"fc"}
    scripted = lessonkit.graph_of(torch.jit.script(mobilenet))
    assert scripted.kinds().count("aten::conv2d") == 52 and "prim::If" in scripted.kinds()


def test_draw_graph_returns_a_figure_with_a_box_per_node(gate, mobilenet):
    scripted = torch.jit.script(gate)
    fig = lessonkit.draw_graph(scripted, title="gate")
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"if", "loop", "linear", "x", "output", "if: then", "if: else", "loop: body"} <= set(texts)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "control flow" in legend and "linear / matmul" in legend
    matplotlib.pyplot.close(fig)
    big = lessonkit.draw_graph(torch.jit.trace(mobilenet, torch.randn(1, 3, 64, 64)))
    assert big.get_size_inches()[1] > 20  # grows tall rather than shrinking the boxes
    matplotlib.pyplot.close(big)


def test_draw_graph_into_given_axes(gate):
    fig, (left, right) = matplotlib.pyplot.subplots(1, 2)
    assert lessonkit.draw_graph(torch.jit.script(gate), ax=left, legend=False) is fig
    assert lessonkit.draw_graph(_trace_gate(gate), ax=right, legend=False) is fig
    assert "if" in [t.get_text() for t in left.texts] and "if" not in [t.get_text() for t in right.texts]
    matplotlib.pyplot.close(fig)


def test_blocks_sit_beside_each_other_and_below_their_if(gate):
    from lessonkit.graph import _layout

    graph = lessonkit.graph_of(torch.jit.script(gate))
    pos, boxes = _layout(graph)
    then, other = (next(g.id for g in graph.groups if g.label == lab) for lab in ("then", "else"))
    assert boxes[then][1] <= boxes[other][0], "then and else bands must not overlap"
    owner = next(g.owner for g in graph.groups if g.id == then)
    assert boxes[then][2] > pos[owner][1], "a block starts below its if"
    loop = next(n.id for n in graph.nodes if n.kind == "prim::Loop")
    assert pos[loop][1] > boxes[other][3], "what follows an if starts below its blocks"


def test_to_dot_has_clusters_and_edges(gate):
    dot = lessonkit.graph_of(torch.jit.script(gate)).to_dot()
    assert dot.startswith("digraph G {") and dot.rstrip().endswith("}")
    assert dot.count("subgraph cluster_") == 3
    assert re.search(r'n\d+ \[label="linear"', dot) and "->" in dot


def test_graph_text_drops_source_paths(gate):
    scripted = torch.jit.script(gate)
    raw = str(scripted.graph)
    assert "conftest.py" in raw
    text = lessonkit.graph_text(scripted)
    assert "conftest.py" not in text and "/" not in text.replace("//", "")
    assert "prim::If" in text and text.startswith("graph(")


def test_code_of_shows_submodules(gate):
    code = lessonkit.code_of(torch.jit.script(gate), submodules=True)
    assert "def forward" in code and "# --- self.linear (Linear)" in code and "torch.linear" in code


def test_families():
    assert family("aten::relu_") == "activation"
    assert family("aten::_convolution") == "convolution"
    assert family("aten::t") == "shape" and family("aten::tanh") == "activation"
    assert family("prim::If") == "control flow"
    assert family("aten::add") == "arithmetic / compare / other"


def test_eager_module_gets_a_type_error_saying_what_to_do(gate):
    with pytest.raises(TypeError, match=r"eager nn.Module.*torch.jit.trace\(model, example_input\) or torch.jit.script\(model\)"):
        lessonkit.graph_of(gate)
    with pytest.raises(TypeError, match="eager nn.Module"):
        lessonkit.draw_graph(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="expected a ScriptModule, ScriptFunction or torch.Graph.*got str"):
        lessonkit.graph_of("model.pt")
    with pytest.raises(TypeError, match="got NoneType"):
        lessonkit.graph_text(None)
