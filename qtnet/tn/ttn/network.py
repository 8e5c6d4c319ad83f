"""The tree tensor network pytree: a binary tree of isometries over 2^L leaves, fixed shapes.

Layout of one state of ``n = 2^L`` sites, physical dimension ``d``::

    levels[k]   [n / 2^(k+1), a_k, a_k, b_k]   node tensors of level k, index order "l r p"
                                              (left child, right child, parent bond)
    log_norm     []   the state is exp(log_norm) * (contracted network)
    log_fidelity []   log of the kept weight of every truncation behind the state

                          levels[L-1] (root, b = 1)
                         /                         \\
                  levels[L-2][0]             levels[L-2][1]
                   /        \\                  ...
          levels[0][0]   levels[0][1]   ...     levels[0][n/2 - 1]
            /    \\         /    \\                   /    \\
          s0     s1       s2     s3                 s_{n-2} s_{n-1}

``a_0 = d`` and ``a_k = b_{k-1}``; ``b_k = min(max_bond, d^(2^(k+1)), d^(n - 2^(k+1)))``, so a
level's nodes share one shape and one vmap handles a level (compile time grows with the
L = log2 n levels, not with n). Every non-root node is an isometry from its parent bond to
its children (``sum_{l r} T T^* = 1``) and the root has unit norm, so the network has unit
norm: builders keep this form.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.log_scaled import LogScaled
from qtnet.tn.mps import MPS, default_dtype, real_dtype
from qtnet.tn.shapes import StateVector, VectorLike


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class TTN(LogScaled):
    """A binary tree tensor network with fixed shapes; see the module docstring for layout."""

    levels: tuple
    log_norm: jax.Array
    log_fidelity: jax.Array

    @property
    def n_sites(self) -> int:
        return 2 * self.levels[0].shape[-4]

    @property
    def phys_dim(self) -> int:
        return self.levels[0].shape[-3]

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def bond_cap(self) -> int:
        return max([1, *(t.shape[-1] for t in self.levels)])

    @property
    def dtype(self):
        return self.levels[0].dtype

    def max_bond_used(self) -> int:
        """The largest numerical rank of a parent bond (on the host: a number to report)."""
        used = 1
        for t in self.levels[:-1]:
            t = np.asarray(t)
            m = t.reshape(t.shape[0], -1, t.shape[-1])
            s = np.linalg.svd(m, compute_uv=False)
            tol = np.finfo(s.dtype).eps * 10 * max(1.0, float(s.max(initial=0.0)))
            used = max(used, int((s > tol).sum(-1).max(initial=1)))
        return used

    def to_dense(self) -> StateVector:
        return to_dense(self)

    def __repr__(self) -> str:
        return (f"TTN(n_sites={self.n_sites}, phys_dim={self.phys_dim}, "
                f"bond_cap={self.bond_cap}, dtype={self.dtype})")


def check_leaves(n_sites: int) -> int:
    """The number of levels L of a tree over ``n_sites = 2^L`` leaves.

    Raises:
      ValueError: ``n_sites`` is not a power of two >= 2.
    """
    if not isinstance(n_sites, (int, np.integer)) or n_sites < 2 or n_sites & (n_sites - 1):
        raise ValueError(f"a binary tree tensor network needs a power-of-two number of "
                         f"leaves >= 2 (2, 4, 8, ...), got {n_sites} sites")
    return int(n_sites).bit_length() - 1


def tree_bond_dims(n_sites: int, phys_dim: int = 2, max_bond: int | None = None) -> list[int]:
    """``b_k`` per level: the exact rank of a block of ``2^(k+1)`` leaves, capped by
    ``max_bond`` (the root's parent bond is 1)."""
    levels = check_leaves(n_sites)
    if max_bond is not None and max_bond < 1:
        raise ValueError(f"max_bond must be a positive integer, got {max_bond}")
    cap = math.inf if max_bond is None else int(max_bond)
    dims = []
    for k in range(levels):
        block = 2 ** (k + 1)
        exponent = min(block, n_sites - block)
        exact = phys_dim ** exponent if exponent < 63 else math.inf
        dims.append(int(min(cap, exact)))
    return dims


def to_dense(tree: TTN) -> StateVector:
    """The full state vector (site 0 most significant), norm included. Small ``n`` only."""
    if tree.n_sites > 26:
        raise ValueError(f"to_dense of {tree.n_sites} sites: a statevector of 2^{tree.n_sites} "
                         f"amplitudes does not fit; read the tree with expectation values")
    return _contract_leaves(tree)


@jax.jit
def _contract_leaves(tree: TTN) -> StateVector:
    t0 = tree.levels[0]
    vec = t0.reshape(t0.shape[0], -1, t0.shape[-1])              # "node (l r) p"
    for t in tree.levels[1:]:
        left, right = vec[0::2], vec[1::2]
        vec = jnp.einsum("jxa,jyc,jacb->jxyb", left, right, t)
        vec = vec.reshape(vec.shape[0], -1, vec.shape[-1])
    return vec[0, :, 0] * jnp.exp(tree.log_norm).astype(vec.dtype)


def from_dense(vector: VectorLike, *, max_bond: int | None = None, phys_dim: int = 2,
               dtype=None) -> TTN:
    """The tree of a dense vector by a leaves-to-root sequence of SVDs (tree HOSVD), on the
    host.

    Each level's node is the span of the leading left singular vectors of the state unfolded
    on its block; ``max_bond`` truncates them and the kept weight goes to the fidelity.
    """
    dtype = np.dtype(dtype or default_dtype())
    psi = np.asarray(vector).astype(dtype).reshape(-1)
    n = round(math.log(psi.size, phys_dim)) if psi.size > 1 else 0
    if phys_dim ** n != psi.size:
        raise ValueError(f"a vector of {psi.size} amplitudes is not {phys_dim}^n")
    dims = tree_bond_dims(n, phys_dim, max_bond)
    norm = np.linalg.norm(psi)
    if not np.isfinite(norm) or norm == 0:
        raise ValueError(f"from_dense needs a finite nonzero vector, its norm is {norm}")
    a, levels = phys_dim, []
    psi = (psi / norm).reshape((phys_dim,) * n)
    for k, b in enumerate(dims):
        legs = psi.ndim // 2
        psi = psi.reshape((a * a,) * legs)                  # pair (2j, 2j+1) -> leg j "l r"
        if k == len(dims) - 1:                              # two legs left: the root
            kept = np.linalg.norm(psi)
            levels.append(psi.reshape(1, a, a, 1) / kept)
            break
        nodes = [np.linalg.svd(np.moveaxis(psi, j, 0).reshape(a * a, -1),
                               full_matrices=False)[0][:, :b] for j in range(legs)]
        for j, u in enumerate(nodes):                       # project leg j onto node j
            psi = np.moveaxis(np.tensordot(u.conj().T, psi, axes=(1, j)), 0, j)
        levels.append(np.stack(nodes).reshape(legs, a, a, b))
        a = b
    return _tree(levels, np.log(norm), 2 * np.log(kept), dtype)


def from_mps(state: MPS, *, max_bond: int | None = None) -> TTN:
    """The tree of an MPS, without its statevector: one batched SVD per level (on the host).

    The MPS is right-canonical with its Schmidt values, so a block of sites weighted by the
    Schmidt values on its left bond is the block's reduced state: its leading left singular
    vectors (in the children's bases) are the block's node. Exact when ``max_bond`` is at
    least ``chi^2`` (the rank of a block of an MPS of bond chi); otherwise the kept weight
    goes to the fidelity.
    """
    if not isinstance(state, MPS) or np.ndim(state.tensors) != 4:
        raise ValueError(f"from_mps takes one (unbatched) MPS, got {type(state).__name__}")
    n, chi, d = state.n_sites, state.bond_cap, state.phys_dim
    cap = chi * chi if max_bond is None else min(int(max_bond), chi * chi)
    dims = tree_bond_dims(n, d, cap)
    blocks = np.asarray(state.tensors)                      # "j l u r", children of level 0
    schmidt = np.asarray(state.schmidt)
    log_fid = float(state.log_fidelity)
    levels = []
    for k, b in enumerate(dims):
        a = blocks.shape[2]
        pair = np.einsum("jaub,jbvc->jauvc", blocks[0::2], blocks[1::2])
        m = pair.shape[0]
        if k == len(dims) - 1:                              # the root: boundary slots 0
            root = pair[0, 0, :, :, 0].reshape(1, a, a, 1)
            kept = np.linalg.norm(root)
            levels.append(root / kept)
            log_fid += 2 * np.log(kept)
            break
        left_bond = schmidt[0:n:2 ** (k + 1)][:m]           # Schmidt values left of block j
        weighted = left_bond[:, :, None, None, None] * pair
        unfolded = weighted.transpose(0, 2, 3, 1, 4).reshape(m, a * a, chi * chi)
        u = np.linalg.svd(unfolded, full_matrices=False)[0][:, :, :b]
        levels.append(u.reshape(m, a, a, b))
        blocks = np.einsum("jxb,jaxc->jabc", u.conj(), pair.reshape(m, chi, a * a, chi))
    return _tree(levels, float(state.log_norm), log_fid, state.dtype)


def _tree(levels, log_norm, log_fidelity, dtype) -> TTN:
    rdt = real_dtype(dtype)
    return TTN(tuple(jnp.asarray(t, dtype) for t in levels), jnp.asarray(log_norm, rdt),
               jnp.asarray(log_fidelity, rdt))


def product_state(vectors, *, dtype=None) -> TTN:
    """A product state of ``vectors [n, d]`` (bond 1 everywhere)."""
    dtype = jnp.dtype(dtype or default_dtype())
    v = jnp.asarray(vectors).astype(dtype)
    n, d = v.shape
    levels_n = check_leaves(n)
    norms = jnp.linalg.norm(v, axis=1)
    v = v / norms[:, None]
    levels = [jnp.einsum("jp,jq->jpq", v[0::2], v[1::2])[..., None]]
    for k in range(1, levels_n):
        levels.append(jnp.ones((n // 2 ** (k + 1), 1, 1, 1), dtype))
    rdt = real_dtype(dtype)
    return TTN(tuple(levels), jnp.sum(jnp.log(norms)).astype(rdt), jnp.zeros((), rdt))
