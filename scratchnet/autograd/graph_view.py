"""A text drawing of the graph behind a tensor: ``print(loss.graph())``.

    mean () float64 cpu
      mul (3, 4) float64 cpu  [#1]
        add (3, 4) float64 cpu
          leaf (3, 4) float64 cpu requires_grad=True
          ...
        [#1] add (see above)

One line per node, children indented under the node that consumed them,
from the output back to the leaves (the direction backward walks).  A node
or leaf used by several consumers gets a label ``[#k]`` the first time it is
printed and is only referred to after that, so shared subexpressions are
drawn once and the drawing stays linear in the size of the graph.

The walk is iterative (an explicit stack), so a 100,000-op chain prints
without hitting Python's recursion limit (and, with indentation capped,
in memory linear in its length).  Depends on nothing but the
engine's own node fields: ``next_edges`` (edges to inputs) and ``out_meta``
(shape, dtype and array type of each output, recorded by ``apply``).
"""
from __future__ import annotations

from .function import Function


def _device(array_type) -> str:
    return "cuda" if array_type.__module__.startswith("cupy") else "cpu"


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _leaf_text(t) -> str:
    return (f"leaf {_shape_text(t.shape)} {t.dtype} {t.device} "
            f"requires_grad={t.requires_grad}")


def _node_text(node, output_nr: int) -> str:
    meta = getattr(node, "out_meta", None)
    if meta is None:                               # node made outside Function.apply
        return f"{node.op_name()} (shape unknown)"
    shape, dtype, kind = meta[output_nr] if output_nr < len(meta) else meta[0]
    text = f"{node.op_name()} {_shape_text(shape)} {dtype} {_device(kind)}"
    if len(meta) > 1:
        text += f" (output {output_nr} of {len(meta)})"
    if node.released:
        text += " (released)"
    return text


def _children(item):
    """The inputs of a node that need gradients, as (node or leaf tensor, output_nr)."""
    if not isinstance(item, Function):
        return ()
    return tuple(edge for edge in item.next_edges if edge is not None)


def _use_counts(root) -> dict:
    """How many edges point at each node/leaf reachable from root (iteratively)."""
    counts = {root: 1}
    stack = [root]
    while stack:
        item = stack.pop()
        for child, _ in _children(item):
            counts[child] = counts.get(child, 0) + 1
            if counts[child] == 1:
                stack.append(child)
    return counts


def graph_text(tensor, indent: str = "  ", max_indent: int = 32) -> str:
    """One line per node: op, output shape, dtype, device, indented by depth.

    Deeper than ``max_indent`` levels the indentation stops growing and the
    line starts with its depth instead ("[depth 40] add ..."): indenting a
    100,000-op chain in full would take ~10¹⁰ characters.
    """
    root = tensor.grad_fn if tensor.grad_fn is not None else tensor
    counts = _use_counts(root)
    labels: dict = {}           # shared item -> its label number, once printed
    lines = []
    stack = [(root, tensor.output_nr, 0)]
    while stack:
        item, output_nr, depth = stack.pop()
        pad = indent * depth if depth <= max_indent else (
            indent * max_indent + f"[depth {depth}] ")
        is_node = isinstance(item, Function)
        name = item.op_name() if is_node else "leaf"
        if item in labels:
            meta = getattr(item, "out_meta", None) if is_node else None
            which = f"output {output_nr} of {len(meta)}, " if meta and len(meta) > 1 else ""
            lines.append(f"{pad}[#{labels[item]}] {name} ({which}see above)")
            continue
        text = _node_text(item, output_nr) if is_node else _leaf_text(item)
        if counts[item] > 1:
            labels[item] = len(labels) + 1
            text += f"  [#{labels[item]}]"
        lines.append(pad + text)
        # push children reversed so that input 0 is printed first
        for child, nr in reversed(_children(item)):
            stack.append((child, nr, depth + 1))
    return "\n".join(lines)
