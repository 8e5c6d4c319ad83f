"""Deep polynomial layers as MPS operations: L stacked layers of degree 2, degree 2^L in the
data, trained end to end through the MPS backend (gradients through MPO applications,
Hadamard products and their compressions).

On ``node | feat`` registers, from a data state |ψ_0> (e.g. a hop state's k = 1 slice, or
|X>):

    φ_l   = W_l ψ_{l-1}                         W_l: an MPO on the feat register (its cores
                                                are the parameters: a tensor-train layer)
    ψ_l   = c0_l |1> + c1_l φ_l + c2_l φ_l ⊙ φ_l     (|1>: all ones; ⊙ elementwise)
    z[v, c] = <v, c| W_out ψ_L>                 per-node logits, read as amplitudes

On hardware every layer doubles the copies a read-out needs (2^L copies per shot); here every
Hadamard product squares the bond before compressing it back to ``max_bond``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from qtnet import tn
from qtnet.gnn.synthetic import HopFeatures
from qtnet.tn.mpo import MPO


def init_params(key, layers: int, feat_qubits: int, *, bond: int = 4, scale: float = 0.5,
                dtype=jnp.float64) -> dict:
    """Random MPO cores ``w [L, f, D, 2, 2, D]``, ``w_out [f, D, 2, 2, D]`` (near identity
    plus noise) and polynomial coefficients ``coef [L, 3]`` (the paper's GELU fit)."""
    k1, k2 = jax.random.split(key)
    eye = jnp.zeros((bond, 2, 2, bond), dtype).at[0, :, :, 0].set(jnp.eye(2, dtype=dtype))

    def cores(k, lead):
        noise = jax.random.normal(k, (*lead, feat_qubits, bond, 2, 2, bond), dtype)
        return eye + scale * noise / bond

    return {"w": cores(k1, (layers,)), "w_out": cores(k2, ()),
            "coef": jnp.tile(jnp.asarray([0.0169394634313126, 0.5, 0.3078363963999393],
                                         dtype), (layers, 1))}


def _on_feat(cores, n_node: int) -> MPO:
    return tn.mpo_embed(MPO(cores), n_node, n_node + cores.shape[0])


def forward_state(params: dict, psi: tn.MPS, n_node: int, *, max_bond: int) -> tn.MPS:
    """``W_out ψ_L`` as an MPS (bond cap ``max_bond``)."""
    n = psi.n_sites
    psi, _ = tn.canonicalize(psi, max_bond=max_bond)      # the scan carries this shape
    ones = tn.product_state(jnp.ones((n, 2)), max_bond=max_bond, dtype=psi.dtype)
    kw = {"max_bond": max_bond}

    def layer(psi, p):
        w, c = p
        phi = tn.apply_mpo(_on_feat(w, n_node), psi, **kw)
        out = tn.add(tn.scale(phi, c[1]), tn.scale(tn.hadamard(phi, phi, **kw), c[2]), **kw)
        return tn.add(out, tn.scale(ones, c[0]), **kw), None

    psi, _ = jax.lax.scan(layer, psi, (params["w"], params["coef"]))
    return tn.apply_mpo(_on_feat(params["w_out"], n_node), psi, **kw)


def logits_at(params: dict, psi: tn.MPS, bits, n_node: int, n_classes: int, *,
              max_bond: int) -> jax.Array:
    """``[B, C]`` logits of the nodes given as bits ``[B, n_node]``."""
    out = forward_state(params, psi, n_node, max_bond=max_bond)
    amps = HopFeatures(out, n_node, 0, 2 ** (psi.n_sites - n_node)).of_bits(bits)
    return amps[:, 0, :n_classes]


def dense_logits(params: dict, x: np.ndarray, n_classes: int) -> jax.Array:
    """The same model on a dense ``x [N, F]`` (the reference)."""
    dense = lambda cores: tn.mpo_to_dense(MPO(cores))                          # noqa: E731

    def layer(psi, p):
        w, c = p
        phi = psi @ dense(w).T
        return c[0] + c[1] * phi + c[2] * phi * phi, None

    psi, _ = jax.lax.scan(layer, jnp.asarray(x), (params["w"], params["coef"]))
    return (psi @ dense(params["w_out"]).T)[:, :n_classes]
