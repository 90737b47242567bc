"""The functional API: Input, calling layers on tensors, Model(inputs, outputs) (lecture 18).

A symbolic ``Tensor`` holds no numbers: it records its per-example shape and which layer call
(node) produced it. ``Model`` walks the recorded graph from the outputs back to the inputs,
orders the nodes, and then runs them forward (inputs → outputs) and backward (outputs →
inputs). Where a tensor feeds several layers, the gradients coming back from them ADD UP; a
layer called on several tensors (a shared layer) gets the SUM of the gradients of all its calls:
L = J₁ + J₂ gives dL/dw = dJ₁/dw + dJ₂/dw. A merge layer (``Add``, lecture 22) is called on a
LIST of tensors, ``Add()([x, h])``, and hands one gradient back to each of them.
"""
from __future__ import annotations

from nnlib.graph import Input, Tensor, call_layer
from nnlib.layers import Activation
from nnlib.layers.base import backward_without_input_grad
from nnlib.models.training import BaseModel

__all__ = ["Tensor", "Input", "Model", "call_layer"]


class Model(BaseModel):
    """A model given by its input and output tensors (lecture 18; notes 000).

    >>> from nnlib.layers import Dense, Softmax
    >>> inp1, inp2 = Input(11), Input(5)
    >>> h = Dense(4, seed=0)(Dense(16, seed=0)(inp1))
    >>> out1 = Softmax()(Dense(4, seed=0)(h))
    >>> out2 = Dense(1, seed=0)(Dense(4, seed=0)(inp2))
    >>> model = Model(inputs=[inp1, inp2], outputs=[out1, out2])
    >>> model.count_params()
    309

    Total loss L = Σ_o w_o J_o (w from ``compile(loss_weights=...)``, default 1 each).
    X is passed as a list in the order of ``inputs`` (or a dict by input name), y likewise.
    Layers are built in float64 when called; ``model.astype("float32")`` converts them.
    """

    def __init__(self, inputs, outputs, name=None):
        super().__init__(name)
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self.outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        for t in self.inputs + self.outputs:
            if not isinstance(t, Tensor):
                raise TypeError(f"Model: inputs and outputs must be tensors from Input(...) or "
                                f"layer calls, got {type(t).__name__}")
        for t in self.inputs:
            if t.node is not None:
                raise ValueError(f"Model: {t!r} is not an Input(...) tensor")
        self.nodes = self._order()
        self.layers = []
        for node in self.nodes:
            if not any(node.layer is l for l in self.layers):
                self.layers.append(node.layer)
        calls = {}
        for node in self.nodes:
            calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
        self._shared = {lid for lid, c in calls.items() if c > 1}
        consumers = {}
        for node in self.nodes:
            for inp in node.inputs:
                consumers[id(inp)] = consumers.get(id(inp), 0) + 1
        self._consumers = consumers
        self.input_names = tuple(t.name for t in self.inputs)
        names = []
        for t in self.outputs:
            base = t.node.layer.name if t.node else t.name
            name, i = base, 1
            while name in names:
                i += 1
                name = f"{base}_{i}"
            names.append(name)
        self.output_names = tuple(names)

    def _order(self):
        """Nodes in an order where every node comes after the nodes it depends on."""
        order, seen, input_ids = [], set(), {id(t) for t in self.inputs}

        def visit(t, path):
            if t.node is None:
                if id(t) not in input_ids:
                    raise ValueError(f"Model: the outputs depend on input {t.name!r}, which is "
                                     f"not in inputs={[i.name for i in self.inputs]}")
                return
            if id(t.node) in seen:
                return
            for inp in t.node.inputs:
                visit(inp, path)
            seen.add(id(t.node))
            order.append(t.node)

        for out in self.outputs:
            visit(out, ())
        return order

    def _output_layers(self):
        return [t.node.layer if t.node else None for t in self.outputs]

    def _output_activation(self, i):
        t = self.outputs[i]
        layer = t.node.layer if t.node else None
        if (isinstance(layer, Activation) and self._consumers.get(id(t), 0) == 0
                and sum(o is t for o in self.outputs) == 1 and id(layer) not in self._shared):
            return layer.activation
        return None

    def _input_shapes(self):
        return [t.shape for t in self.inputs]

    def _output_shapes(self):
        return [t.shape for t in self.outputs]

    def _ensure_built(self, input_shapes, dtype):
        pass                                           # layers were built when called

    def _forward(self, xs, training):
        values = {id(t): x for t, x in zip(self.inputs, xs)}
        for node in self.nodes:
            if isinstance(node.input, list):
                x = [values[id(t)] for t in node.input]
            else:
                x = values[id(node.input)]
            values[id(node.output)] = node.layer.forward(x, training)
            node.cache = node.layer._cache
        return [values[id(t)] for t in self.outputs]

    def _backward(self, grads):
        pending = {}
        for t, g, obj in zip(self.outputs, grads, self.objectives):
            if obj.fused:                              # (p − y)/N: skip the output activation
                t = t.node.input
            pending[id(t)] = pending[id(t)] + g if id(t) in pending else g
        summed = {}
        for node in reversed(self.nodes):
            g = pending.pop(id(node.output), None)
            if g is None:
                continue
            layer = node.layer
            layer._cache = node.cache
            if isinstance(node.input, list):           # a merge: one gradient per input
                for t, g_in in zip(node.input, layer.backward(g)):
                    if t.node is not None:
                        pending[id(t)] = pending[id(t)] + g_in if id(t) in pending else g_in
                continue
            if node.input.node is None:                # fed by an Input: no dL/dx needed
                backward_without_input_grad(layer, g)
                g_in = None
            else:
                g_in = layer.backward(g)
            if id(layer) in self._shared:
                if id(layer) in summed:
                    acc = summed[id(layer)]
                    for k in acc:
                        acc[k] = acc[k] + layer.grads[k]
                else:
                    summed[id(layer)] = dict(layer.grads)
            if g_in is not None and node.input.node is not None:
                key = id(node.input)
                pending[key] = pending[key] + g_in if key in pending else g_in
        for layer in self.layers:
            if id(layer) in summed:
                layer.grads.update(summed[id(layer)])

    def _summary_rows(self):
        rows = [(t.name, "Input", t.shape, 0) for t in self.inputs]
        for node in self.nodes:
            rows.append((node.layer.name, type(node.layer).__name__, node.output.shape,
                         node.layer.count_params()))
        return rows
