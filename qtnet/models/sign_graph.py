"""SIGN graph classifier (the paper's Table 2 model): per node, the concatenated diffusion
features go through Linear -> norm -> a shared trainable degree-2 polynomial; the nodes of each
graph are summed; dropout; Linear to class logits.

Nodes of a batch of graphs arrive packed: ``x [n_nodes, F]`` with ``graph [n_nodes]`` naming
each node's graph (0..n_graphs-1) and ``node_mask [n_nodes]`` false on padding rows.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qtnet.models.sign import INITS, POLY_INIT, linear

NORMS = ("batch", "layer", "none")


class SIGNGraph(nnx.Module):
    """Args:
      norm: ``batch`` (statistics over the batch's nodes; in evaluation a fixed affine map, so
        the circuit form keeps it), ``layer`` (per node; not a polynomial, so it has no exact
        circuit form) or ``none``.
      hidden: the width of the one hidden layer (the authors' ``sign_graph_pred.py`` uses
        their ``--num-hidden`` x (R + 1) blocks: see ``SignGraphSettings.hidden_times_blocks``).
      init: ``lecun`` (flax's Linear) or ``torch`` (U(+-1/sqrt(fan_in)), the authors').
    """

    def __init__(self, n_features: int, n_classes: int, *, hidden: int, norm: str = "batch",
                 dropout: float = 0.0, init: str = "lecun", rngs: nnx.Rngs):
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        self.lin = linear(n_features, hidden, init, rngs)
        if norm == "batch":   # torch's BatchNorm1d defaults: momentum 0.1 -> flax 0.9
            self.norm = nnx.BatchNorm(hidden, momentum=0.9, rngs=rngs)
        elif norm == "layer":
            self.norm = nnx.LayerNorm(hidden, rngs=rngs)
        else:
            self.norm = None
        self.coef = nnx.Param(jnp.asarray(POLY_INIT))
        self.drop = nnx.Dropout(dropout)
        self.out = linear(hidden, n_classes, init, rngs)

    def node_features(self, x, node_mask, train: bool):
        """``[n_nodes, hidden]``: sigma(norm(x W + b)), zero on padding rows."""
        h = self.lin(x)
        if isinstance(self.norm, nnx.BatchNorm):
            h = self.norm(h, use_running_average=not train,
                          mask=jnp.broadcast_to(node_mask[:, None], h.shape))
        elif self.norm is not None:
            h = self.norm(h)
        c = self.coef[...]
        h = c[0] + c[1] * h + c[2] * h * h
        return jnp.where(node_mask[:, None], h, 0.0)

    def __call__(self, x, graph, node_mask, n_graphs: int, *, train: bool = False,
                 key=None):
        """Logits ``[n_graphs, C]``; dropout only when ``train`` and given a ``key``."""
        h = self.node_features(x, node_mask, train)
        pooled = jax.ops.segment_sum(h, graph, num_segments=n_graphs)
        if train and key is not None:
            pooled = self.drop(pooled, deterministic=False, rngs=key)
        return self.out(pooled)
