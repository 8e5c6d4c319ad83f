"""Bring any MPS network into canonical form, truncating on the way back (compression).

Two ``lax.scan`` sweeps over the stacked site tensors, so compile time does not grow with
the number of sites:

1. left -> right: SVD each site, keep the left-orthonormal factor, push ``S Vh`` right;
   the network's norm is pulled out into ``log_norm`` as we go.
2. right -> left: SVD each site with the remainder attached; the singular values are now
   the true Schmidt values, so truncating them to ``max_bond`` / ``cutoff`` is optimal for
   that bond (truncation in canonical form), and their discarded weight is measured.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from qtnet.tn.mps_pytree import MPS, boundary_schmidt, full_ranks, real_dtype
from qtnet.tn.shapes import RealScalar
from qtnet.tn.svd import svd, truncation_mask


def _safe_norm(x):
    sq = jnp.sum(jnp.abs(x) ** 2)
    tiny = jnp.finfo(sq.dtype).tiny
    return jnp.sqrt(jnp.maximum(sq, tiny))


def _left_sweep(tensors):
    """Left-orthonormalise ``tensors [n, c, d, c]``; returns (Q's, final remainder, log norm)."""
    n, c, d, _ = tensors.shape
    start = jnp.zeros((c, c), tensors.dtype).at[0, 0].set(1.0)   # left boundary e_0

    def step(carry, site):
        rem, log_norm = carry
        m = jnp.einsum("ab,bpc->apc", rem, site).reshape(c * d, c)   # [(l p), r]
        u, s, vh = svd(m)
        nrm = _safe_norm(s)
        rem = (s / nrm)[:, None].astype(vh.dtype) * vh               # [c, c]
        return (rem, log_norm + jnp.log(nrm)), u.reshape(c, d, c)

    init = (start, jnp.zeros((), real_dtype(tensors.dtype)))
    (rem, log_norm), qs = jax.lax.scan(step, init, tensors)
    return qs, rem, log_norm


def _right_sweep(qs, rem, chi, cutoff):
    """Right-canonicalise left-orthonormal ``qs`` with remainder ``rem``, truncating to chi."""
    n, c, d, _ = qs.shape
    rdt = real_dtype(qs.dtype)
    # Attach the remainder's boundary column to the last site: [c, d, c] @ rem[:, 0].
    last = jnp.einsum("apb,b->ap", qs[-1], rem[:, 0])
    qs = qs.at[-1].set(jnp.zeros_like(qs[-1]).at[:, :, 0].set(last))
    start = jnp.zeros((c, chi), qs.dtype).at[0, 0].set(1.0)      # right boundary e_0
    keep = min(chi, c, d * chi)

    def step(carry, site):
        right, log_norm, log_fid = carry
        m = jnp.einsum("apb,bc->apc", site, right).reshape(c, d * chi)   # [l, (p r)]
        u, s, vh = svd(m)
        total = jnp.sum(s**2)
        mask = truncation_mask(s, keep, cutoff)[:keep]
        s_k = jnp.where(mask, s[:keep], 0.0)
        kept = jnp.sum(s_k**2)
        tiny = jnp.finfo(rdt).tiny
        # Unit Schmidt values; the pre-truncation norm goes to log_norm, so truncation
        # keeps the state's norm and its loss shows up in the fidelity estimate only.
        s_k = s_k / jnp.sqrt(jnp.maximum(kept, tiny))
        nrm = jnp.sqrt(jnp.maximum(total, tiny))
        b = (vh[:keep] * mask[:, None]).reshape(keep, d, chi)
        b = jnp.pad(b, ((0, chi - keep), (0, 0), (0, 0)))
        right = jnp.pad(u[:, :keep] * s_k[None, :].astype(u.dtype), ((0, 0), (0, chi - keep)))
        frac = jnp.where(total > 0, kept / jnp.where(total > 0, total, 1), 1.0)
        carry = (right, log_norm + jnp.log(nrm), log_fid + jnp.log(frac))
        return carry, (b, jnp.pad(s_k, (0, chi - keep)), 1.0 - frac)

    init = (start, jnp.zeros((), rdt), jnp.zeros((), rdt))
    (right, log_norm, log_fid), (bs, ss, discarded) = jax.lax.scan(
        step, init, qs[1:], reverse=True)
    first = jnp.einsum("pb,bc->pc", qs[0][0], right)                  # left boundary row
    nrm = _safe_norm(first)
    b0 = jnp.zeros((chi, d, chi), qs.dtype).at[0].set(first / nrm)
    tensors = jnp.concatenate([b0[None], bs])
    edge = boundary_schmidt(chi, qs.dtype)
    schmidt = jnp.concatenate([edge[None], ss, edge[None]])
    return tensors, schmidt, log_norm + jnp.log(nrm), log_fid, jnp.sum(discarded)


def canonicalize(mps: MPS, *, max_bond: int | None = None,
                 cutoff: float = 0.0) -> tuple[MPS, RealScalar]:
    """Canonical form of any MPS network, compressed to ``max_bond`` / ``cutoff``.

    Args:
      mps: an MPS whose tensors may be in any gauge (e.g. after an MPO was applied).
      max_bond: bond cap of the result (the result's array shape); defaults to the input's.
      cutoff: relative weight below which Schmidt values are dropped.

    Returns:
      ``(state, discarded)``: the canonical state, with ``log_fidelity`` updated, and the
      total weight discarded by this compression (summed over bonds).
    """
    chi = mps.bond_cap if max_bond is None else int(max_bond)
    qs, rem, log_norm_l = _left_sweep(mps.tensors)
    tensors, schmidt, log_norm_r, log_fid, discarded = _right_sweep(qs, rem, chi, cutoff)
    out = MPS(tensors, schmidt, mps.log_norm + log_norm_l + log_norm_r,
              mps.log_fidelity + log_fid, full_ranks(mps.n_sites, mps.phys_dim, chi))
    return out, discarded


def compress(mps: MPS, *, max_bond: int, cutoff: float = 0.0) -> tuple[MPS, RealScalar]:
    """Compress to bond ``max_bond`` in canonical form; returns ``(state, discarded weight)``."""
    return canonicalize(mps, max_bond=max_bond, cutoff=cutoff)


def with_bond_cap(mps: MPS, chi: int) -> MPS:
    """Re-pad a canonical state to a larger bond cap (no truncation, no SVD)."""
    c = mps.bond_cap
    if chi < c:
        raise ValueError(f"with_bond_cap only grows the cap ({c} -> {chi}); use compress")
    pad = chi - c
    tensors = jnp.pad(mps.tensors, ((0, 0), (0, pad), (0, 0), (0, pad)))
    schmidt = jnp.pad(mps.schmidt, ((0, 0), (0, pad)))
    return dataclasses.replace(mps, tensors=tensors, schmidt=schmidt)
