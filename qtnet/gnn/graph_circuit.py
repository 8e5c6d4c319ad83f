"""The SIGN graph classifier as a circuit: Alice holds one graph's diffusion features |X>
on ``node | feat``; Bob applies the first layer (with batch norm folded into it — in
evaluation batch norm is a fixed affine map), the shared polynomial (a Hadamard product) and
the output layer; sum pooling over the graph's nodes is one overlap with the uniform state on
the node register. It reuses :class:`~qtnet.gnn.sign_circuit.SignCircuit` with a single hop
and T = 1 (the diffusion hops are Alice's precomputed data).

LayerNorm divides by a per-node norm: not a polynomial, so a LayerNorm model has no circuit
form (the paper's circuit-faithful variant must replace it).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from flax import nnx

from qtnet.gnn.sign_circuit import SignCircuit, SignWeights
from qtnet.tn import backends


def graph_weights(model) -> SignWeights:
    """Bob's weights of a trained :class:`~qtnet.models.sign_graph.SIGNGraph`, batch norm
    (running statistics) folded into the first layer."""
    w = np.asarray(model.lin.kernel[...], np.float64)
    b = np.asarray(model.lin.bias[...], np.float64)
    if isinstance(model.norm, nnx.LayerNorm):
        raise ValueError("LayerNorm is not a polynomial: a SIGN graph model with norm='layer' "
                         "has no circuit form (train it with norm='batch' or 'none')")
    if isinstance(model.norm, nnx.BatchNorm):
        bn = model.norm
        s = np.asarray(bn.scale[...], np.float64) / np.sqrt(
            np.asarray(bn.var[...], np.float64) + bn.epsilon)
        w, b = w * s, (b - np.asarray(bn.mean[...], np.float64)) * s + np.asarray(
            bn.bias[...], np.float64)
    coef = np.asarray(model.coef[...], np.float64)
    return SignWeights(w[None], b[None], coef[None], np.asarray(model.out.kernel[...]),
                       np.asarray(model.out.bias[...]))


def graph_circuit_logits(model, features: np.ndarray, backend: str = "dense") -> np.ndarray:
    """``[C]`` logits of one graph with node features ``[n_nodes, F]``, from the circuit:
    the pooled logit is ``n * mean_v z_v - (n - 1) b_out`` with ``mean_v z_v`` one overlap."""
    ops = backends.get(backend)
    weights = graph_weights(model)
    n = len(features)
    circuit = SignCircuit(sp.identity(n, format="csr"), features, weights)
    out = circuit.output(ops)
    mean = np.asarray(circuit.decision_means(np.arange(n), out))
    return n * mean - (n - 1) * weights.b_out
