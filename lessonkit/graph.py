"""Lessons 01-03: TorchScript graphs as pictures, as DOT text and as clean text.

`graph_of` walks a TorchScript graph with the graph iteration API only (nodes,
inputs, outputs, kind, blocks) and keeps what a student wants to see: the ops
and the data flowing between them, with the blocks of `prim::If` and
`prim::Loop` as nested groups. `draw_graph` lays that out top to bottom with
matplotlib; `to_dot` writes Graphviz text for those who have `dot`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import torch

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Drawable = Union[torch.jit.ScriptModule, torch.jit.ScriptFunction, torch.Graph]

#: Nodes that only move values around; hidden unless `hide_constants=False`.
PLUMBING = {
    "prim::Constant",
    "prim::GetAttr",
    "prim::ListConstruct",
    "prim::ListUnpack",
    "prim::TupleConstruct",
    "prim::TupleUnpack",
    "prim::DictConstruct",
}


@dataclass(frozen=True)
class Node:
    """One op of the graph (or one of its inputs or outputs)."""

    id: str
    kind: str  # "aten::linear", "prim::If"; "input", "output", or "block" for an empty If/Loop block
    label: str  # what the picture shows: "linear", "if", "x"
    inputs: tuple[str, ...]  # names of the values it reads
    outputs: tuple[str, ...]  # names of the values it makes
    group: str | None = None  # the If/Loop block it sits in, None at top level
    scope: str = ""  # the submodule a traced op came from, e.g. "layer1.0.conv1"


@dataclass(frozen=True)
class Edge:
    """A value flowing from one node to another (`control`: an If/Loop entering its block)."""

    source: str
    target: str
    control: bool = False


@dataclass(frozen=True)
class Group:
    """A block of a `prim::If` (then/else) or `prim::Loop` (body)."""

    id: str
    owner: str  # the If/Loop node
    label: str  # "then", "else", "body"
    parent: str | None


@dataclass
class Graph:
    """A TorchScript graph reduced to what a picture needs."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def kinds(self) -> list[str]:
        """The op kinds in graph order (inputs, outputs and empty-block nodes left out)."""
        return [n.kind for n in self.nodes if n.kind not in ("input", "output", "block")]

    def __repr__(self) -> str:
        return f"<Graph: {len(self.nodes)} nodes, {len(self.edges)} edges, {len(self.groups)} groups>"

    def to_dot(self) -> str:
        """Graphviz DOT text: render with `dot -Tpng graph.dot -o graph.png` if you have Graphviz."""
        lines = ["digraph G {", "  rankdir=TB;", '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']

        def emit(group: str | None, indent: str) -> None:
            for n in self.nodes:
                if n.group == group:
                    colour = _FAMILY_COLOURS[family(n.kind)]
                    shape = ', shape=ellipse' if n.kind in ("input", "output") else ""
                    lines.append(f'{indent}{n.id} [label="{_dot_escape(n.label)}", fillcolor="{colour}"{shape}];')
            for g in self.groups:
                if g.parent == group:
                    lines.append(f"{indent}subgraph cluster_{g.id} {{")
                    lines.append(f'{indent}  label="{_dot_escape(self.node(g.owner).label)}: {g.label}"; style=dashed;')
                    emit(g.id, indent + "  ")
                    lines.append(f"{indent}}}")

        emit(None, "  ")
        for e in self.edges:
            style = " [style=dashed, color=gray]" if e.control else ""
            lines.append(f"  {e.source} -> {e.target}{style};")
        lines.append("}")
        return "\n".join(lines)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _torch_graph(obj: Any, inline: bool) -> torch.Graph:
    if isinstance(obj, torch.Graph):
        return obj
    if isinstance(obj, (torch.jit.ScriptModule, torch.jit.ScriptFunction)):
        return obj.inlined_graph if inline else obj.graph
    if isinstance(obj, torch.nn.Module):
        raise TypeError(
            f"{type(obj).__name__} is an eager nn.Module, which has no graph yet: convert it first, "
            "with torch.jit.trace(model, example_input) or torch.jit.script(model), and pass the result"
        )
    raise TypeError(
        f"expected a ScriptModule, ScriptFunction or torch.Graph (from torch.jit.trace or torch.jit.script), "
        f"got {type(obj).__name__}"
    )


def _short(name: str) -> str:
    """Debug names like 'x.1' -> 'x'; numbered temporaries stay as they are."""
    return re.sub(r"\.\d+$", "", name)


def _label(node: torch.Node) -> str:
    kind = node.kind()
    if kind == "prim::If":
        return "if"
    if kind == "prim::Loop":
        return "loop"
    if kind == "prim::GetAttr":
        return f".{node.s('name')}"
    if kind == "prim::Constant":
        value = node.output().toIValue() if node.outputsSize() == 1 else None
        text = repr(value) if not isinstance(value, torch.Tensor) else f"tensor{tuple(value.shape)}"
        return text if len(text) <= 16 else text[:15] + "…"
    if kind == "prim::CallMethod":
        owner = node.inputsAt(0).node()
        target = owner.s("name") if owner.kind() == "prim::GetAttr" else "self"
        return f"{target}.{node.s('name')}()"
    return kind.split("::", 1)[-1]


def graph_of(obj: Drawable, *, inline: bool = True, hide_constants: bool = True) -> Graph:
    """Turn a ScriptModule, ScriptFunction or torch.Graph into a plain `Graph`.

    `inline` draws submodules' ops in place (else a `prim::CallMethod` node per call);
    `hide_constants` hides constants, attribute reads and list/tuple plumbing, passing
    the data flow through them.
    """
    tg = _torch_graph(obj, inline)
    out = Graph()
    producers: dict[int, tuple[str, ...]] = {}  # Value.unique() -> the visible nodes that make it
    counter = iter(range(1_000_000))

    def add_node(kind: str, label: str, ins: list[torch.Value], outs: list[torch.Value], group: str | None, scope: str = "") -> str:
        node_id = f"n{next(counter)}"
        out.nodes.append(
            Node(node_id, kind, label, tuple(_short(v.debugName()) for v in ins), tuple(_short(v.debugName()) for v in outs), group, scope)
        )
        sources = dict.fromkeys(p for v in ins for p in producers.get(v.unique(), ()))
        out.edges.extend(Edge(s, node_id) for s in sources)
        return node_id

    for value in tg.inputs():
        if value.type().kind() == "ClassType":  # `self`: the module, not data
            producers[value.unique()] = ()
        else:
            producers[value.unique()] = (add_node("input", _short(value.debugName()), [], [value], None),)

    def walk(block: torch.Block, group: str | None) -> list[str]:
        made = []
        for tn in block.nodes():
            kind = tn.kind()
            ins = list(tn.inputs())
            if hide_constants and kind in PLUMBING:
                passed = tuple(dict.fromkeys(p for v in ins for p in producers.get(v.unique(), ())))
                for o in tn.outputs():
                    producers[o.unique()] = passed
                continue
            scope = tn.scopeName().replace("__module.", "").replace("__module", "")
            node_id = add_node(kind, _label(tn), ins, list(tn.outputs()), group, scope)
            made.append(node_id)
            blocks = list(tn.blocks())
            if not blocks:
                for o in tn.outputs():
                    producers[o.unique()] = (node_id,)
                continue
            results: dict[int, list[str]] = defaultdict(list)
            for i, b in enumerate(blocks):
                label = "body" if kind == "prim::Loop" else ("then" if i == 0 else "else")
                gid = f"g{len(out.groups)}"
                out.groups.append(Group(gid, node_id, label, group))
                b_ins, b_outs = list(b.inputs()), list(b.outputs())
                if kind == "prim::Loop":
                    # Block inputs (the counter, the carried values) are handed in by the loop node.
                    for b_in in b_ins:
                        producers[b_in.unique()] = (node_id,)
                    b_outs = b_outs[1:]  # the first block output is the loop condition
                members = walk(b, gid)
                result_producers = [producers.get(bo.unique(), ()) for bo in b_outs]
                if not members:
                    # An empty block (`return x` in a branch) still is a path: show it as one node
                    # that hands the block's results on, so that both branches are visible.
                    names = [_short(v.debugName()) for v in b_outs]
                    label = "pass-through" if not names or any(n.isdigit() for n in names) else "returns " + ", ".join(names)
                    members = [add_node("block", label, b_outs, [], gid)]
                    result_producers = [(members[0],)] * len(b_outs)
                inside = set(members)
                fed = {e.target for e in out.edges if e.target in inside and (e.source in inside or e.source == node_id)}
                out.edges.extend(Edge(node_id, m, control=True) for m in members if m not in fed)
                for o, made_by in zip(tn.outputs(), result_producers):
                    results[o.unique()].extend(made_by)
            for o in tn.outputs():
                producers[o.unique()] = tuple(dict.fromkeys(results[o.unique()])) or (node_id,)
        return made

    walk(tg.block(), None)
    returned = list(tg.outputs())
    add_node("output", "output", returned, [], None)
    return out


# ---------------------------------------------------------------- drawing

#: Op families and their colours, the picture's legend: (name, colour, op prefixes, exact ops).
#: Op names are compared without namespace and leading/trailing underscores ("aten::relu_" -> "relu").
_FAMILIES: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    ("convolution", "#f4a582", ("conv",), ()),
    ("linear / matmul", "#fddbc7", ("linear", "matmul", "addmm", "bmm", "einsum"), ("mm",)),
    ("normalization / dropout", "#d1e5f0", ("batch_norm", "layer_norm", "group_norm", "instance_norm", "dropout", "feature_dropout"), ()),
    ("activation", "#b8e186", ("relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "hardswish", "hardsigmoid", "silu", "elu", "leaky_relu", "hardtanh"), ()),
    ("pooling", "#92c5de", ("max_pool", "avg_pool", "adaptive_"), ()),
    ("control flow", "#fee08b", (), ("If", "Loop", "RaiseException", "block")),
    ("shape", "#e0e0e0", (), ("view", "reshape", "flatten", "size", "cat", "stack", "transpose", "permute", "squeeze", "unsqueeze", "select", "slice", "len", "getitem", "dim", "contiguous", "expand", "t")),
    ("constants / plumbing", "#ffffff", (), tuple(k.split("::")[1] for k in PLUMBING)),
    ("input / output", "#c2a5cf", (), ("input", "output")),
    ("arithmetic / compare / other", "#f7f7f7", (), ()),
]
_FAMILY_COLOURS = {name: colour for name, colour, _, _ in _FAMILIES}


def family(kind: str) -> str:
    """Which colour family an op kind belongs to ('aten::relu_' -> 'activation')."""
    op = kind.split("::", 1)[-1].strip("_")
    for name, _, prefixes, exact in _FAMILIES:
        if op in exact or op.startswith(prefixes):
            return name
    return _FAMILIES[-1][0]


_BAND_GAP = 0.3  # columns between a block's box and what stands left of it


def _layout(graph: Graph) -> tuple[dict[str, tuple[float, int]], dict[str, tuple[float, float, int, int]]]:
    """Columns and layers: node -> (col, layer); group -> (col0, col1, layer0, layer1).

    Layers: the longest path from an input (graph order is already topological).
    Columns: each block gets a band of columns of its own beside its parent's ops, so
    that a block's box holds only its own ops and the then/else blocks sit side by side.
    """
    preds: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        preds[e.target].append(e.source)
    parent = {g.id: g.parent for g in graph.groups}
    layer: dict[str, int] = {}
    previous: dict[str | None, str] = {}  # the last op placed in each block, in program order
    floor: dict[str | None, int] = defaultdict(int)  # an If/Loop ends above what follows it
    for n in graph.nodes:  # graph order: each If/Loop is followed by the ops of its blocks
        after = preds[n.id]
        if not after and n.kind != "input" and n.group in previous:
            # An op that reads no drawn value (e.g. `if self.training`) keeps its place in program order.
            after = [previous[n.group]]
        layer[n.id] = max(floor[n.group], max((layer[p] + 1 for p in after), default=0))
        previous[n.group] = n.id
        g = n.group
        while g is not None:  # what follows an If/Loop in its enclosing blocks starts below its blocks
            g = parent[g]
            floor[g] = max(floor[g], layer[n.id] + 1)
    members: dict[str | None, list[str]] = defaultdict(list)
    for n in graph.nodes:
        members[n.group].append(n.id)
    children: dict[str | None, list[str]] = defaultdict(list)
    for g in graph.groups:
        children[g.parent].append(g.id)

    cols: dict[str, float] = {}
    boxes: dict[str, tuple[float, float, int, int]] = {}

    def place(group: str | None) -> tuple[dict[str, float], dict[str, tuple[float, float, int, int]], dict[int, float]]:
        """Lay out a group relative to column 0; return node cols, box spans and the extent per layer."""
        local: dict[str, float] = {}
        local_boxes: dict[str, tuple[float, float, int, int]] = {}
        extent: dict[int, float] = defaultdict(float)
        for nid in members[group]:
            local[nid] = extent[layer[nid]]
            extent[layer[nid]] += 1
        for child in children[group]:
            c_cols, c_boxes, c_extent = place(child)
            if not c_extent:  # an empty block (all plumbing): nothing to draw
                continue
            lo, hi = min(c_extent), max(c_extent)
            width = max(c_extent.values())
            start = max(extent[l] for l in range(lo, hi + 1))
            start += _BAND_GAP if start else 0.0
            for nid, c in c_cols.items():
                local[nid] = start + c
            for gid, (a, b, l0, l1) in c_boxes.items():
                local_boxes[gid] = (start + a, start + b, l0, l1)
            local_boxes[child] = (start, start + width, lo, hi)
            for l in range(lo, hi + 1):
                extent[l] = start + width
        return local, local_boxes, extent

    cols, boxes, _ = place(None)
    return {n: (cols[n], layer[n]) for n in cols}, boxes


def draw_graph(
    obj: Drawable,
    *,
    ax: Axes | None = None,
    inline: bool = True,
    hide_constants: bool = True,
    title: str | None = None,
    legend: bool = True,
) -> Figure:
    """Draw a TorchScript graph top to bottom and return the matplotlib Figure.

    Ops are coloured by family, If/Loop blocks are dashed boxes, inputs and outputs
    are purple. Big models grow tall (0.5 inch a layer) rather than unreadably small.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch, Rectangle

    graph = graph_of(obj, inline=inline, hide_constants=hide_constants)
    pos, boxes = _layout(graph)
    n_cols = max(c for c, _ in pos.values()) + 1
    n_layers = max(l for _, l in pos.values()) + 1
    if ax is None:
        # Sizes in inches: 1.5 a column, 0.5 a layer, a margin for the title and one for the legend.
        width, height, right = 1.5 * n_cols + 0.3, 0.5 * n_layers + 0.3, 2.2 if legend else 0.1
        top = 0.5 if title else 0.1
        fig = plt.figure(figsize=(width + right, height + top))
        ax = fig.add_axes((0.0, 0.0, width / (width + right), height / (height + top)))
    else:
        fig = ax.figure
    box_w, box_h, dx, dy = 1.25, 0.34, 1.5, 0.5
    xy = {nid: (c * dx, -l * dy) for nid, (c, l) in pos.items()}
    # Patches go in with add_artist, not add_patch: the limits are set once at the end,
    # and add_patch's per-patch limit update made resnet18 three times slower.

    groups = {g.id: g for g in graph.groups}
    height: dict[str, int] = {}  # how many levels of drawn blocks a block holds: outer boxes get more margin
    for g in reversed(graph.groups):
        height[g.id] = max([height[c.id] + 1 for c in graph.groups if c.parent == g.id and c.id in boxes], default=0)
    for gid, (c0, c1, l0, l1) in boxes.items():
        group, pad = groups[gid], 0.05 + 0.07 * height[gid]
        x0, x1 = c0 * dx - box_w / 2 - pad, (c1 - 1) * dx + box_w / 2 + pad
        y0, y1 = -l1 * dy - box_h / 2 - pad, -l0 * dy + box_h / 2 + pad + 0.17
        ax.add_artist(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls="--", lw=1, ec="#8c6d00"))
        ax.text(x0 + 0.05, y1 - 0.03, f"{graph.node(group.owner).label}: {group.label}", fontsize=6.5, va="top", color="#8c6d00")

    for e in graph.edges:
        (x0, y0), (x1, y1) = xy[e.source], xy[e.target]
        rad = 0.0 if abs(y0 - y1) <= dy * 1.01 or x0 != x1 else 0.35
        ax.add_artist(
            FancyArrowPatch(
                (x0, y0 - box_h / 2), (x1, y1 + box_h / 2), arrowstyle="-|>", mutation_scale=8, shrinkA=0, shrinkB=0,
                connectionstyle=f"arc3,rad={rad}", lw=0.8, color="#999999" if e.control else "#444444",
                ls="--" if e.control else "-", zorder=1,
            )
        )

    for n in graph.nodes:
        x, y = xy[n.id]
        ax.add_artist(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2), box_w, box_h, boxstyle="round,pad=0.02,rounding_size=0.08",
                fc=_FAMILY_COLOURS[family(n.kind)], ec="#333333", lw=0.8, zorder=2,
            )
        )
        label = n.label if len(n.label) <= 18 else n.label[:17] + "…"
        ax.text(x, y, label, ha="center", va="center", fontsize=7.5, zorder=3, weight="bold" if n.kind in ("input", "output") else None)

    # One data unit is one inch. In axes of the caller's, keep that scale where they are
    # large enough (so two graphs side by side are drawn alike), top-left aligned.
    width_needed, height_needed = (n_cols - 1) * dx + 2 * box_w, (n_layers - 1) * dy + 2 * box_h + 0.3
    size = ax.get_window_extent().transformed(fig.dpi_scale_trans.inverted())
    ax.set_xlim(-box_w, -box_w + max(width_needed, size.width))
    ax.set_ylim(box_h + 0.3 - max(height_needed, size.height), box_h + 0.3)
    ax.set_aspect("auto")
    ax.axis("off")
    if legend:
        used = dict.fromkeys(family(n.kind) for n in graph.nodes)
        handles = [Patch(fc=_FAMILY_COLOURS[f], ec="#333333", label=f) for f in used]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


# ---------------------------------------------------------------- text views

_SOURCE_COMMENT = re.compile(r" # [^\n]+?:\d+:\d+$", re.M)


def graph_text(obj: Drawable, *, inline: bool = False) -> str:
    """`print(graph)` without the absolute source paths and line numbers it embeds."""
    return _SOURCE_COMMENT.sub("", str(_torch_graph(obj, inline))).rstrip()


def code_of(obj: torch.jit.ScriptModule | torch.jit.ScriptFunction, *, submodules: bool = False) -> str:
    """The TorchScript code of a module's forward (and, with `submodules`, of each submodule's)."""
    _torch_graph(obj, False)  # the same type check and message as the graph views
    if isinstance(obj, torch.Graph):
        raise TypeError("a torch.Graph has no code; pass the ScriptModule or ScriptFunction")
    parts = [obj.code.rstrip()]
    if submodules and isinstance(obj, torch.jit.ScriptModule):
        for name, sub in obj.named_modules():
            if name and hasattr(sub, "code"):
                parts.append(f"# --- self.{name} ({sub.original_name})\n{sub.code.rstrip()}")
    return "\n\n".join(parts)
