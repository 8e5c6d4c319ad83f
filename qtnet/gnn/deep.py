"""Deep polynomial layers as tensor-network operations: L stacked layers of degree 2, degree
2^L in the data, on any backend (``mps`` or ``dense``), with gradients through every MPO
application, Hadamard product and compression.

On ``node | rest`` registers (``rest`` = ``hop | feat`` for a hop state, or ``feat``), from a
data state |ψ_0> (a hop state Φ = Σ_k |k> T^k|X>, or |X>):

    φ_l   = W_l ψ_{l-1}                         W_l: an MPO on the ``rest`` register (its
                                                cores are the parameters: a tensor-train layer)
    ψ_l   = c0_l |1> + c1_l φ_l + c2_l φ_l ⊙ φ_l     (|1>: all ones; ⊙ elementwise)
    z[v, c] = <v, c| W_out ψ_L>                 per-node logits, read as amplitudes (class c is
                                                the basis index c of the ``rest`` register)

On hardware every layer doubles the copies a read-out needs (2^L copies per shot). On the MPS
backend every operation is compressed to ``max_bond`` and its kept weight multiplies the
state's fidelity estimate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from qtnet import tn
from qtnet.tn import backends
from qtnet.tn.mpo import MPO

POLY_INIT = (0.0169394634313126, 0.5, 0.3078363963999393)    # the paper's GELU fit


def init_params(key, layers: int, rest_qubits: int, *, bond: int = 4, scale: float = 0.5,
                dtype=jnp.float64) -> dict:
    """Random MPO cores ``w [L, k, D, 2, 2, D]``, ``w_out [k, D, 2, 2, D]`` (near identity
    plus noise; ``k = rest_qubits``) and polynomial coefficients ``coef [L, 3]`` (the
    paper's GELU fit)."""
    k1, k2 = jax.random.split(key)
    eye = jnp.zeros((bond, 2, 2, bond), dtype).at[0, :, :, 0].set(jnp.eye(2, dtype=dtype))

    def cores(k, lead):
        noise = jax.random.normal(k, (*lead, rest_qubits, bond, 2, 2, bond), dtype)
        return eye + scale * noise / bond

    return {"w": cores(k1, (layers,)), "w_out": cores(k2, ()),
            "coef": jnp.tile(jnp.asarray(POLY_INIT, dtype), (layers, 1))}


def on_rest(cores, n_sites: int) -> MPO:
    """The MPO of ``cores [k, D, 2, 2, D]`` on the last ``k`` of ``n_sites`` (identity on the
    node register before them)."""
    k = cores.shape[0]
    return tn.mpo_embed(MPO(cores), n_sites - k, n_sites)


def forward_state(params: dict, psi, *, max_bond: int | None, backend: str = "mps",
                  cutoff: float = 0.0):
    """``W_out ψ_L`` as a state of ``backend`` (every operation compressed to ``max_bond``).

    Args:
      params: ``w [L, k, D, 2, 2, D]``, ``w_out [k, D, 2, 2, D]``, ``coef [L, 3]``.
      psi: the data state (an MPS; the dense backend takes its statevector).
      max_bond: bond cap of every intermediate state (ignored by the dense backend).
    """
    be = backends.get(backend)
    n = psi.n_sites
    if be.state_type is not type(psi):
        psi = be.encode(tn.to_dense(psi), dtype=psi.dtype)
    kw = {"max_bond": max_bond, "cutoff": cutoff}
    psi = be.compress(psi, **kw)                   # the layer scan carries this shape
    ones = be.product_state(jnp.ones((n, 2)), max_bond=max_bond or 1, dtype=psi.dtype)

    def layer(psi, p):
        w, c = p
        phi = be.apply_mpo(on_rest(w, n), psi, **kw)
        out = be.add(be.scale(phi, c[1]), be.scale(be.hadamard(phi, phi, **kw), c[2]), **kw)
        return be.add(out, be.scale(ones, c[0]), **kw), None

    psi, _ = jax.lax.scan(layer, psi, (params["w"], params["coef"]))
    return be.apply_mpo(on_rest(params["w_out"], n), psi, **kw)


def amplitudes_at(state, bits, n_classes: int, *, backend: str = "mps") -> jax.Array:
    """``[B, C]`` amplitudes <v, c|state> of the nodes given as bits ``[B, n_node]`` (site 0
    most significant), class c the basis index c of the register after the node register.

    One overlap with a basis product state per (node, class): O(n χ²) each on the MPS
    backend, so a batch of sampled nodes is read without ever forming the state vector.
    """
    node_vectors = jax.nn.one_hot(jnp.asarray(bits, jnp.int32), 2, dtype=state.dtype)
    return amplitudes_of(state, node_vectors, n_classes, backend=backend)


def amplitudes_of(state, node_vectors, n_classes: int, *, backend: str = "mps") -> jax.Array:
    """``[B, C]`` overlaps <u, c|state> with product states ``u`` on the node register, given
    by their local vectors ``[B, n_node, 2]``: a basis node (one-hot vectors), or the sum over
    a node set such as a sub-grid (``(1, 1)`` on its free bits), one overlap either way."""
    be = backends.get(backend)
    n, n_node = state.n_sites, node_vectors.shape[-2]
    rest = n - n_node
    classes = jax.nn.one_hot(jnp.asarray((np.arange(n_classes)[:, None]
                                          >> np.arange(rest - 1, -1, -1)) & 1), 2,
                             dtype=state.dtype)                          # [C, rest, 2]

    def one(node, cls):
        vectors = jnp.concatenate([node.astype(state.dtype), cls])
        return be.overlap(be.product_state(vectors, dtype=state.dtype), state)

    per_node = jax.vmap(lambda u: jax.vmap(lambda c: one(u, c))(classes))
    return jnp.real(per_node(jnp.asarray(node_vectors)))


def logits_at(params: dict, psi, bits, n_node: int, n_classes: int, *,
              max_bond: int | None, backend: str = "mps") -> jax.Array:
    """``[B, C]`` logits of the nodes given as bits ``[B, n_node]``."""
    del n_node                                          # the bits' width says it
    out = forward_state(params, psi, max_bond=max_bond, backend=backend)
    return amplitudes_at(out, bits, n_classes, backend=backend)


def dense_logits(params: dict, x: np.ndarray, n_classes: int) -> jax.Array:
    """The same model on a dense ``x [N, 2^k]`` (the reference: plain matrix algebra)."""
    dense = lambda cores: tn.mpo_to_dense(MPO(cores))                          # noqa: E731

    def layer(psi, p):
        w, c = p
        phi = psi @ dense(w).T
        return c[0] + c[1] * phi + c[2] * phi * phi, None

    psi, _ = jax.lax.scan(layer, jnp.asarray(x), (params["w"], params["coef"]))
    return (psi @ dense(params["w_out"]).T)[:, :n_classes]
