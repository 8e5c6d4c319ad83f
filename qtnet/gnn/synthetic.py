"""Graphs whose propagation operator is a low-bond MPO, built directly (never as a dense
matrix), and SIGN hop features of MPS data on them — graphs far beyond statevector size.

Node ``v`` is a bit string on the node register, site 0 its most significant bit (the binary
"quantized tensor train" layout). Families:

* 2D periodic grid, ``2^b x 2^b`` nodes: x on the first b sites, y on the next b. A cyclic
  shift is a bond-2 MPO (the carry of a binary increment), so
  T = (I + S_x + S_x^T + S_y + S_y^T) / 5 — the paper's operator, every degree being 5 with the
  self-loop — has bond at most 9.
* Kronecker graphs: the expected adjacency of the L-th Kronecker power of a 2x2 initiator P is
  P^{⊗L}, bond 1; row-normalised it stays a product, (P / rowsum P)^{⊗L} (self-loops are P's
  diagonal).

The hop state on ``node | hop | feat`` is Φ = Σ_k |k> ⊗ T^k|X>, built from |X> (an MPS on
``node | feat``) by inserting the hop register in |+>^r and applying select-T^k as controlled
powers of T; a node's hop features are amplitudes of Φ, one O(n χ²) contraction each.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from qtnet import tn
from qtnet.tn.canonical import canonicalize
from qtnet.tn.mpo import MPO
from qtnet.tn.mpo_builders import mpo_controlled, mpo_kron, mpo_shift, mpo_transpose
from qtnet.tn.mps import MPS, full_ranks


def grid_propagation_mpo(bits_per_axis: int, dtype=jnp.float64) -> MPO:
    """T of the periodic ``2^b x 2^b`` grid: (I + S_x + S_x^T + S_y + S_y^T) / 5."""
    if bits_per_axis < 2:
        raise ValueError(f"a periodic grid needs at least 2 bits per axis (4 x 4 nodes) for "
                         f"distinct neighbours, got {bits_per_axis}")
    b = bits_per_axis
    ident = tn.mpo_identity(b, dtype=dtype)
    sx = mpo_kron(mpo_shift(b, dtype), ident)
    sy = mpo_kron(ident, mpo_shift(b, dtype))
    terms = [tn.mpo_identity(2 * b, dtype=dtype), sx, mpo_transpose(sx), sy, mpo_transpose(sy)]
    return tn.mpo_sum(terms, [0.2] * 5)


def kronecker_propagation_mpo(initiator, levels: int, dtype=jnp.float64) -> MPO:
    """Row-normalised expected adjacency of a Kronecker graph: (P / rowsum P)^{⊗ levels}."""
    p = np.asarray(initiator, np.float64)
    if p.shape != (2, 2) or np.any(p < 0) or not np.allclose(p, p.T) or np.any(p.sum(1) <= 0):
        raise ValueError(f"the initiator must be a symmetric non-negative 2x2 matrix with "
                         f"non-zero rows, got {p.tolist()}")
    local = p / p.sum(1, keepdims=True)
    return tn.mpo_from_local(np.broadcast_to(local, (levels, 2, 2)), dtype=dtype)


def bit_sum_features(n_node: int, n_feat: int, terms: int, uniform: float, seed: int, *,
                     max_bond: int, dtype=jnp.float64) -> MPS:
    """|X> on ``node | feat`` with X(v, f) = u + Σ_j s_j(v) w_j(f), normalised.

    ``s_j(v) = Σ_i a_ji (-1)^{v_i}`` with ``a_ji ~ N(0, 1/n)``: every node bit matters, and a
    node's features are about Gaussian (O(1), no heavy tails, unlike a random MPS's
    amplitudes); ``w_j`` are random product vectors on the feature register and ``u`` is the
    constant ``uniform``. Exact at bond ``terms + 1`` (the left state says which sum, if any,
    has picked its site), so truncation comes only from the circuit run on it.
    """
    if terms + 1 > max_bond:
        raise ValueError(f"{terms} bit sums need bond {terms + 1}, above max_bond {max_bond}")
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n_node, terms)) / np.sqrt(n_node)
    w = rng.normal(size=(n_feat, terms, 2))
    t = np.zeros((n_node + n_feat, max_bond, 2, max_bond))
    idx = np.arange(1, terms + 1)
    t[:n_node, 0, :, 0] = 1.0                                   # no sum has picked a site
    t[:n_node, 0, :, idx] = (a[:, :, None] * np.array([1.0, -1.0])).transpose(1, 0, 2)
    t[:n_node, idx, :, idx] = 1.0                               # sum j has picked its site
    t[n_node:, 0, :, 0] = uniform ** (1.0 / n_feat)
    t[n_node:, idx, :, idx] = w.transpose(1, 0, 2)
    t[-1, :, :, 0] = t[-1].sum(-1)                              # close the right boundary
    t[-1, :, :, 1:] = 0.0
    n = n_node + n_feat
    raw = MPS(jnp.asarray(t, dtype), jnp.zeros((n + 1, max_bond), jnp.finfo(dtype).dtype),
              jnp.zeros((), jnp.finfo(dtype).dtype), jnp.zeros((), jnp.finfo(dtype).dtype),
              full_ranks(n, 2, max_bond))
    state, _ = canonicalize(raw, max_bond=max_bond)
    return tn.scale(state, jnp.exp(-state.log_norm))


def _insert_plus_sites(state: MPS, at: int, count: int) -> MPS:
    """Insert ``count`` sites in (unnormalised) |0> + |1> before site ``at``."""
    chi, dtype = state.bond_cap, state.dtype
    plus = jnp.einsum("ab,p->apb", jnp.eye(chi, dtype=dtype), jnp.ones(2, dtype))
    tensors = jnp.concatenate([state.tensors[:at], jnp.broadcast_to(plus, (count, chi, 2, chi)),
                               state.tensors[at:]])
    n = state.n_sites + count
    raw = MPS(tensors, jnp.zeros((n + 1, chi), state.schmidt.dtype), state.log_norm,
              state.log_fidelity, full_ranks(n, 2, chi))
    out, _ = canonicalize(raw)
    return out


@functools.partial(jax.jit, static_argnames=("hops", "max_bond", "cutoff"))
def hop_state(t_mpo: MPO, features: MPS, hops: int, *, max_bond: int,
              cutoff: float = 0.0) -> MPS:
    """Φ = Σ_{k=0}^{hops} |k> T^k |X> on ``node | hop | feat`` from |X> on ``node | feat``.

    ``hops + 1`` must be a power of two (the hop register is then exactly full). One
    compiled program (op-by-op, every MPO application would compile on its own).
    """
    r = int(np.log2(hops + 1))
    if 2**r != hops + 1 or r < 1:
        raise ValueError(f"hops + 1 must be a power of two >= 2 here, got hops = {hops}")
    n_node = t_mpo.n_sites
    n_feat = features.n_sites - n_node
    if n_feat < 1:
        raise ValueError(f"features on {features.n_sites} sites leave no feature register "
                         f"after the {n_node}-qubit node register")
    psi = _insert_plus_sites(features, n_node, r)
    psi, _ = canonicalize(psi, max_bond=max_bond, cutoff=cutoff)
    for j in range(r):       # hop qubit r-1-j holds bit j of k (site order: MSB first)
        c = mpo_controlled(t_mpo, r - 1 - j, r, n_feat)
        for _ in range(2**j):
            psi = tn.apply_mpo(c, psi, max_bond=max_bond, cutoff=cutoff)
    return psi


@dataclasses.dataclass(frozen=True)
class HopFeatures:
    """Per-node amplitudes of a hop state: ``features(nodes) -> [B, hops + 1, n_features]``."""

    state: MPS
    node_qubits: int
    hop_qubits: int
    n_features: int

    @property
    def n_nodes(self) -> int:
        return 2**self.node_qubits

    def right_block(self) -> jax.Array:
        """``[χ, 2^(hop + feat)]``: the sites after the node register, contracted once."""
        rest = self.state.tensors[self.node_qubits:]
        acc = rest[-1][:, :, 0]                                   # [χ, p]
        for t in rest[-2::-1]:
            acc = jnp.einsum("apb,bq->apq", t, acc).reshape(t.shape[0], -1)
        return acc

    def __call__(self, nodes) -> jax.Array:
        """Hop features of node indices (Python/numpy ints: 2^32 and beyond fit)."""
        return self.of_bits(jnp.asarray(node_bits(nodes, self.node_qubits)))

    def of_bits(self, bits) -> jax.Array:
        """Hop features ``[B, hops + 1, F]`` of nodes given as bits ``[B, n]`` (jit this)."""
        left = self.state.tensors[:self.node_qubits]             # [n, χ, 2, χ]

        def step(env, site):
            t, b = site                                           # [χ, 2, χ], [B]
            return jnp.einsum("Ba,aBb->Bb", env, t[:, b, :]), None

        env0 = jnp.zeros((bits.shape[0], self.state.bond_cap), self.state.dtype).at[:, 0].set(1)
        env, _ = jax.lax.scan(step, env0, (left, bits.T))
        amps = (env @ self.right_block()) * jnp.exp(self.state.log_norm).astype(env.dtype)
        k = 2**self.hop_qubits
        return amps.reshape(-1, k, amps.shape[1] // k)[:, :, :self.n_features]


def node_bits(nodes, n_qubits: int) -> np.ndarray:
    """``[B, n]`` bits of node indices, most significant first (int64: up to 2^62 nodes;
    computed in numpy, since JAX's default integers are 32-bit)."""
    nodes = np.asarray(nodes, np.int64)
    shifts = np.arange(n_qubits - 1, -1, -1, dtype=np.int64)
    return ((nodes[:, None] >> shifts[None, :]) & 1).astype(np.int32)
