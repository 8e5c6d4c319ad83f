"""MPS builders: product states, TT-SVD of a dense vector, random states, scaling.

The pytree itself and its layout live in :mod:`qtnet.tn.mps_pytree` (re-exported here).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import checks
from qtnet.tn.canonical import canonicalize
from qtnet.tn.mps_pytree import (MPS, boundary_schmidt, default_dtype, full_ranks, real_dtype,
                                 to_dense)
from qtnet.tn.shapes import LocalVectors, StateVector, VectorLike
from qtnet.tn.svd import svd, truncation_mask

__all__ = ["MPS", "boundary_schmidt", "computational_basis_state", "default_dtype",
           "full_ranks", "mps_from_dense", "pad_to_power", "product_state", "random_mps",
           "real_dtype", "scale", "to_dense", "unit_local_vectors", "vectors_from_label"]


def product_state(vectors: LocalVectors | str, *, max_bond: int = 1, dtype=None) -> MPS:
    """Product state from one local vector per site.

    Args:
      vectors: ``[n, d]`` local vectors (normalised here; their norms go into ``log_norm``),
        or a string of ``0``/``1``/``+``/``-`` such as ``"0+10"``.
      max_bond: the bond cap ``chi`` of the returned state (fixed for its lifetime).
      dtype: complex dtype; defaults to :func:`default_dtype`.
    """
    units, log_norm = unit_local_vectors(vectors, dtype)
    dtype = units.dtype
    n, d = units.shape
    tensors = jnp.zeros((n, max_bond, d, max_bond), dtype)
    tensors = tensors.at[:, 0, :, 0].set(units)
    schmidt = jnp.broadcast_to(boundary_schmidt(max_bond, dtype), (n + 1, max_bond))
    return MPS(tensors, schmidt, log_norm, jnp.zeros((), real_dtype(dtype)),
               jnp.ones((n + 1,), jnp.int32))


def unit_local_vectors(vectors: LocalVectors | str, dtype=None) -> tuple[jax.Array, jax.Array]:
    """``[n, d]`` local vectors (or a label such as ``"0+10"``) normalised, and the sum of the
    logs of their norms (a product state's ``log_norm``); refuses non-finite or zero vectors."""
    if isinstance(vectors, str):
        vectors = vectors_from_label(vectors)
    dtype = dtype or default_dtype()
    vectors = jnp.asarray(vectors, dtype)
    if vectors.ndim != 2:
        raise ValueError(f"product_state expects [n_sites, d] vectors, got shape {vectors.shape}")
    checks.require_finite(vectors, "product_state vectors")
    norms = jnp.linalg.norm(vectors, axis=-1)
    checks.require_nonzero(norms, "product_state vectors")
    return vectors / norms[:, None].astype(dtype), jnp.sum(jnp.log(norms)).astype(
        real_dtype(dtype))


def computational_basis_state(bits, *, max_bond: int = 1, dtype=None) -> MPS:
    """|b_0 b_1 ... b_{n-1}> with site 0 the most significant bit."""
    bits = np.asarray(bits, int)
    return product_state(np.eye(2)[bits], max_bond=max_bond, dtype=dtype)


_LABELS = {"0": [1, 0], "1": [0, 1], "+": [2**-0.5, 2**-0.5], "-": [2**-0.5, -2**-0.5]}


def vectors_from_label(label: str) -> np.ndarray:
    """Local vectors ``[n, 2]`` of a product-state label such as ``"0+10"``."""
    bad = sorted(set(label) - set(_LABELS))
    if bad or not label:
        raise ValueError(f"product state label {label!r}: use only the characters 0 1 + -")
    return np.array([_LABELS[c] for c in label], float)


def mps_from_dense(psi: VectorLike, *, n_sites: int | None = None, phys_dim: int = 2,
                   max_bond: int | None = None, cutoff: float = 0.0, dtype=None) -> MPS:
    """MPS of a dense vector by TT-SVD from the right (gives the canonical form directly).

    Args:
      psi: vector of length ``phys_dim ** n_sites``. Not normalised: its norm goes into
        ``log_norm``. Pad data to a power of the physical dimension yourself
        (:func:`qtnet.tn.pad_to_power`) — a silent pad would change what the state means.
      max_bond: bond cap; ``None`` keeps every Schmidt value (exact).
      cutoff: drop Schmidt values whose relative weight ``s^2 / sum(s^2)`` is at most this.
    """
    dtype = dtype or default_dtype()
    psi = jnp.asarray(psi).astype(dtype).reshape(-1)
    n = checks.sites_for_length(psi.shape[0], phys_dim, n_sites)
    checks.require_finite(psi, "mps_from_dense input")
    exact_cap = phys_dim ** (n // 2)
    chi = exact_cap if max_bond is None else int(max_bond)
    rdt = real_dtype(dtype)

    norm = jnp.linalg.norm(psi)
    checks.require_nonzero(norm, "mps_from_dense input")
    rest = (psi / norm).reshape(-1, 1)            # [d^(i+1), bond]
    tensors, schmidts = [], []
    log_fid = jnp.zeros((), rdt)
    for _ in range(n - 1, 0, -1):
        left, bond = rest.shape[0] // phys_dim, rest.shape[1]
        # rest: [(left, p), r] -> [left, (p, r)]
        u, s, vh = svd(rest.reshape(left, phys_dim * bond))
        keep = min(chi, s.shape[0])
        mask = truncation_mask(s, keep, cutoff)[:keep]
        s_k = jnp.where(mask, s[:keep], 0.0)
        kept = jnp.sum(s_k**2)
        log_fid = log_fid + jnp.log(kept / jnp.sum(s**2))
        s_k = s_k / jnp.sqrt(kept)
        b = (vh[:keep] * mask[:, None]).reshape(keep, phys_dim, bond)
        tensors.append(_pad_site(b, chi))
        schmidts.append(jnp.pad(s_k, (0, chi - keep)))
        rest = u[:, :keep] * s_k[None, :]
    first = rest.reshape(1, phys_dim, -1)
    tensors.append(_pad_site(first, chi))
    tensors = jnp.stack(tensors[::-1])
    edge = boundary_schmidt(chi, dtype)
    schmidt = jnp.stack([edge, *schmidts[::-1], edge])
    return MPS(tensors, schmidt, jnp.log(norm).astype(rdt), log_fid,
               full_ranks(n, phys_dim, chi))


def _pad_site(b, chi):
    left, _, right = b.shape
    return jnp.pad(b, ((0, chi - left), (0, 0), (0, chi - right)))


def pad_to_power(x: VectorLike, phys_dim: int = 2) -> StateVector:
    """Zero-pad a vector to the next power of ``phys_dim`` (explicit, for encodings)."""
    x = jnp.asarray(x).reshape(-1)
    n = max(1, int(np.ceil(np.log(x.shape[0]) / np.log(phys_dim) - 1e-12)))
    return jnp.pad(x, (0, phys_dim**n - x.shape[0]))


def random_mps(key, n_sites: int, bond_dim: int, *, phys_dim: int = 2,
               max_bond: int | None = None, dtype=None) -> MPS:
    """A random normalised MPS with bond dimension ``bond_dim`` (Gaussian site tensors)."""
    dtype = dtype or default_dtype()
    cap = max_bond or bond_dim
    if bond_dim > cap:
        raise ValueError(f"bond_dim {bond_dim} exceeds max_bond {cap}")
    kr, ki = jax.random.split(key)
    shape = (n_sites, bond_dim, phys_dim, bond_dim)
    rdt = real_dtype(dtype)
    t = jax.random.normal(kr, shape, rdt)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        t = t + 1j * jax.random.normal(ki, shape, rdt)
    t = jnp.pad(t.astype(dtype), ((0, 0), (0, cap - bond_dim), (0, 0), (0, cap - bond_dim)))
    raw = MPS(t, jnp.zeros((n_sites + 1, cap), rdt), jnp.zeros((), rdt), jnp.zeros((), rdt),
              full_ranks(n_sites, phys_dim, cap))
    state, _ = canonicalize(raw, max_bond=cap)
    return _with_log_norm(state, 0.0)


def _with_log_norm(mps: MPS, log_norm) -> MPS:
    return dataclasses.replace(mps, log_norm=jnp.asarray(log_norm, mps.log_norm.dtype))


def scale(mps: MPS, factor) -> MPS:
    """``factor * |mps>``: the modulus goes into ``log_norm``, the phase into site 0."""
    factor = jnp.asarray(factor)
    mag = jnp.abs(factor)
    phase = jnp.where(mag > 0, factor / jnp.where(mag > 0, mag, 1), 1).astype(mps.dtype)
    tensors = mps.tensors.at[0].multiply(phase)
    return dataclasses.replace(mps, tensors=tensors, log_norm=mps.log_norm + jnp.log(mag))
