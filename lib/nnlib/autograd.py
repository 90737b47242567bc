"""A tiny scalar autograd engine, in the spirit of micrograd (lecture 12).

Every arithmetic operation on ``Value`` objects records a node of a computation graph: the
result's ``data``, the operation (``op``) and the inputs it came from (``parents``). Calling
``backward()`` on the final result (the loss) fills in ``grad`` = ∂loss/∂node for every node by
the chain rule, visiting the nodes from the output back to the inputs (reverse topological
order). Each node only needs its *local* derivatives; when a value feeds several operations
(weight sharing), the contributions of the paths add up, which is why ``_backward`` uses ``+=``.

>>> w, x, b = Value(2.0, "w"), Value(-1.0, "x"), Value(3.0, "b")
>>> a = (w * x + b).relu()          # a = relu(w·x + b) = relu(1) = 1
>>> a.backward()
>>> w.grad, x.grad, b.grad          # ∂a/∂w = x, ∂a/∂x = w, ∂a/∂b = 1
(-1.0, 2.0, 1.0)
"""
from __future__ import annotations

import math
import numbers

__all__ = ["Value", "draw"]


class Value:
    """One scalar in a computation graph, with its gradient (lecture 12).

    ``Value(data, label="")``: ``data`` a real number, ``label`` a name shown by ``draw``.
    Supports +, −, ×, / (with Values or plain numbers, on either side), ``** c`` for a constant
    c, and ``exp()``, ``log()``, ``tanh()``, ``sigmoid()``, ``relu()``. After ``backward()``,
    ``grad`` holds ∂root/∂self. Gradients accumulate: build a fresh graph (or set every ``grad``
    to 0) before calling ``backward()`` again.
    """

    def __init__(self, data, label="", parents=(), op=""):
        if isinstance(data, Value):
            raise TypeError("Value(data): data is already a Value; use it directly")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.parents = tuple(parents)
        self.op = op
        self._backward = lambda: None      # spreads self.grad to the parents

    def __repr__(self):
        name = f"{self.label}, " if self.label else ""
        return f"Value({name}data={self.data:.4g}, grad={self.grad:.4g})"

    # -- the primitive operations: value and local derivatives --------------------------------
    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, parents=(self, other), op="+")

        def _backward():                   # ∂(a + b)/∂a = ∂(a + b)/∂b = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, parents=(self, other), op="×")

        def _backward():                   # ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, c):
        if not isinstance(c, numbers.Real):
            raise TypeError(f"Value ** c needs a constant number c, got {type(c).__name__}")
        if self.data == 0 and c < 0 or self.data < 0 and not float(c).is_integer():
            raise ValueError(f"{self.data} ** {c} is not a real number")
        out = Value(self.data ** c, parents=(self,), op=f"**{c:g}")

        def _backward():                   # d(aᶜ)/da = c·aᶜ⁻¹
            self.grad += c * self.data ** (c - 1) * out.grad
        out._backward = _backward
        return out

    def _unary(self, value, local, op):
        """A one-input node with output ``value`` and local derivative ``local``."""
        out = Value(value, parents=(self,), op=op)

        def _backward():
            self.grad += local * out.grad
        out._backward = _backward
        return out

    def exp(self):
        """e^a; derivative e^a."""
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self):
        """Natural log ln a (a > 0); derivative 1/a."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, got {self.data}")
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def tanh(self):
        """tanh a; derivative 1 − tanh² a."""
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def sigmoid(self):
        """σ(a) = 1 / (1 + e^−a); derivative σ(a)(1 − σ(a))."""
        a = self.data
        s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        return self._unary(s, s * (1.0 - s), "σ")

    def relu(self):
        """max(0, a); derivative 1 for a > 0, else 0."""
        return self._unary(max(0.0, self.data), 1.0 if self.data > 0 else 0.0, "relu")

    # -- everything else is built from the primitives ------------------------------------------
    def __sub__(self, other):
        other = _as_value(other)
        out = Value(self.data - other.data, parents=(self, other), op="−")

        def _backward():                   # ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
            self.grad += out.grad
            other.grad -= out.grad
        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = _as_value(other)
        if other.data == 0:
            raise ZeroDivisionError("Value division by zero")
        out = Value(self.data / other.data, parents=(self, other), op="/")

        def _backward():                   # ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
            self.grad += out.grad / other.data
            other.grad -= self.data / other.data ** 2 * out.grad
        out._backward = _backward
        return out

    # -- everything else is built from the primitives ------------------------------------------
    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return _as_value(other) + self

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rmul__(self, other):
        return _as_value(other) * self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    # -- the backward pass ----------------------------------------------------------------------
    def topological_order(self):
        """All nodes of the graph ending here, each listed after all of its parents."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:                        # depth-first, without recursion limits
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in reversed(node.parents) if id(p) not in seen)
        return order

    def backward(self):
        """Fill ``grad`` of every node with ∂self/∂node: seed ∂self/∂self = 1, then apply the
        chain rule node by node from the output back to the leaves."""
        self.grad = 1.0
        for node in reversed(self.topological_order()):
            node._backward()


def _as_value(x):
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):          # int, float and numpy scalars: a constant leaf
        return Value(x, label=f"{float(x):g}")
    raise TypeError(f"cannot combine a Value with {type(x).__name__}")


# ----------------------------------------------------------------------------------------------
# Drawing the graph with matplotlib
# ----------------------------------------------------------------------------------------------
def _depths(order):
    """Column of each node: every computed node one right of its deepest input; each leaf
    (input, parameter, constant) just left of the first operation that uses it."""
    depth = {}
    for node in order:                       # parents come first in a topological order
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    first_use = {}
    for node in order:
        for p in node.parents:
            first_use[id(p)] = min(first_use.get(id(p), depth[id(node)]), depth[id(node)])
    for node in order:
        if not node.parents and id(node) in first_use:
            depth[id(node)] = first_use[id(node)] - 1
    return depth


def draw(root, ax=None):
    """Draw the computation graph that ends in ``root``, left to right (lecture 12).

    Columns are depths: a computed node sits one column to the right of its deepest input, and
    each leaf (input, parameter, constant) just left of the first operation that uses it, so
    data flows left to right and the output ends up on the right. Each box shows the node's
    label and op, its ``data`` and its ``grad``; the font shrinks to fit large graphs into the
    Axes. Arrows run from inputs to results. Leaves are blue, computed nodes orange, the root
    green. Returns the matplotlib Axes (a new figure ≤ 10 × 4 inches when ``ax`` is None);
    every box's text has gid "autograd-node" (so ``len`` of those texts is the node count).
    """
    import matplotlib.pyplot as plt

    from nnlib.style import PALETTE

    order = root.topological_order()
    depth = _depths(order)
    columns = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    n_cols = max(columns) + 1
    n_rows = max(len(c) for c in columns.values())
    if ax is None:
        size = (min(10.0, 1.9 * n_cols + 0.6), min(4.0, 0.95 * n_rows + 1.0))
        _, ax = plt.subplots(figsize=size)
    # place columns right to left; in each, order nodes by the mean height of their consumers
    # (all of which lie further right) so that arrows cross as little as possible
    consumers = {id(node): [] for node in order}
    for node in order:
        for parent in node.parents:
            consumers[id(parent)].append(node)
    pos = {}
    for col in sorted(columns, reverse=True):
        nodes = sorted(columns[col], key=lambda n: -sum(pos[id(c)][1] for c in consumers[id(n)])
                       / max(len(consumers[id(n)]), 1))
        for row, node in enumerate(nodes):
            pos[id(node)] = (col, (len(nodes) - 1) / 2 - row)     # centred vertically
    digits = 4 if len(order) <= 12 else 3
    texts = {}
    for node in order:
        title = " ".join(s for s in (node.label, f"[{node.op}]" if node.op else "") if s) or "·"
        texts[id(node)] = f"{title}\ndata {node.data:.{digits}g}\ngrad {node.grad:.{digits}g}"
    # the largest font (≤ 9 pt) at which the widest box fits its column and the boxes of the
    # fullest column fit above one another (a character is about 0.6 em wide, a line 1.25 em)
    box = ax.get_position()
    col_pt = 72 * box.width * ax.figure.get_figwidth() / (n_cols + 0.2)
    row_pt = 72 * box.height * ax.figure.get_figheight() / (n_rows + 0.2)
    widest = max(len(line) for t in texts.values() for line in t.split("\n"))
    fontsize = min(9.0, 0.85 * col_pt / (0.6 * widest + 1.4), 0.85 * row_pt / (1.25 * 3 + 1.4))
    boxes = {}
    for node in order:
        x, y = pos[id(node)]
        color = (PALETTE["green"] if node is root else
                 PALETTE["sky"] if not node.parents else PALETTE["orange"])
        boxes[id(node)] = ax.text(
            x, y, texts[id(node)], ha="center", va="center", fontsize=fontsize,
            gid="autograd-node", zorder=3,
            bbox=dict(boxstyle="round,pad=0.35", facecolor=color, edgecolor="0.3", alpha=0.9))
    for node in order:                       # arrows from the right edge of an input's box
        for parent in node.parents:          # to the left edge of the result's box
            ax.annotate("", xy=(-0.08, 0.5), xycoords=boxes[id(node)], xytext=(1.08, 0.5),
                        textcoords=boxes[id(parent)], zorder=2,
                        arrowprops=dict(arrowstyle="-|>", color="0.45", lw=1.0,
                                        shrinkA=0, shrinkB=0))
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-n_rows / 2, n_rows / 2)
    ax.set_axis_off()
    ax.set_title(f"computation graph: {len(order)} nodes, inputs left, output right")
    return ax
