"""MPS algebra that grows bonds and then compresses: MPO application, sums, Hadamard products.

Each builds the exact network (bond = product or sum of the inputs' bonds) and then calls
:func:`qtnet.tn.canonical.canonicalize`, which truncates in canonical form and records the
discarded weight in the result's fidelity estimate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from qtnet.tn.canonical import canonicalize
from qtnet.tn.checks import check_same_sites
from qtnet.tn.mpo import MPO
from qtnet.tn.mps import MPS
from qtnet.tn.shapes import Samples


def _merge_fidelity(*states):
    return sum(s.log_fidelity for s in states)


def apply_mpo(mpo: MPO, mps: MPS, *, max_bond: int | None = None,
              cutoff: float = 0.0) -> MPS:
    """``O|psi>`` compressed to ``max_bond`` (default: the state's bond cap)."""
    check_same_sites(mps, mpo, "apply_mpo")
    n, c, d, _ = mps.tensors.shape
    w = mpo.bond_cap
    dtype = jnp.result_type(mps.dtype, mpo.dtype)    # a complex MPO makes a real state complex
    # [w, o, i, v] x [a, i, b] -> [(w a), o, (v b)]
    t = jnp.einsum("nwoiv,naib->nwaovb", mpo.tensors.astype(dtype), mps.tensors.astype(dtype))
    raw = MPS(t.reshape(n, w * c, d, w * c), mps.schmidt, mps.log_norm, mps.log_fidelity,
              mps.ranks)
    out, _ = canonicalize(raw, max_bond=max_bond or c, cutoff=cutoff)
    return out


def add(a: MPS, b: MPS, *, max_bond: int | None = None, cutoff: float = 0.0) -> MPS:
    """``|a> + |b>`` compressed to ``max_bond`` (default: the larger bond cap)."""
    check_same_sites(a, b, "add")
    n, ca, d, _ = a.tensors.shape
    cb = b.bond_cap
    dtype = jnp.result_type(a.dtype, b.dtype)
    ref = jnp.maximum(a.log_norm, b.log_norm)
    wa = jnp.exp(a.log_norm - ref).astype(dtype)
    wb = jnp.exp(b.log_norm - ref).astype(dtype)
    t = jnp.zeros((n, ca + cb, d, ca + cb), dtype)
    t = t.at[:, :ca, :, :ca].set(a.tensors).at[:, ca:, :, ca:].set(b.tensors)
    # Open boundaries: both branches start on row 0 of site 0 and end on column 0 of site n-1.
    first = jnp.zeros((ca + cb, d, ca + cb), dtype)
    first = first.at[0, :, :ca].set(wa * t[0, 0, :, :ca]).at[0, :, ca:].set(wb * t[0, ca, :, ca:])
    t = t.at[0].set(first)
    last = jnp.zeros((ca + cb, d, ca + cb), dtype)
    last = last.at[:, :, 0].set(t[-1, :, :, 0] + t[-1, :, :, ca])
    t = t.at[-1].set(last)
    raw = MPS(t, jnp.zeros((n + 1, ca + cb), a.schmidt.dtype), ref, _merge_fidelity(a, b),
              a.ranks)
    out, _ = canonicalize(raw, max_bond=max_bond or max(ca, cb), cutoff=cutoff)
    return out


def hadamard(a: MPS, b: MPS, *, max_bond: int | None = None, cutoff: float = 0.0) -> MPS:
    """Elementwise product ``(a * b)_x = a_x b_x`` (bond ca * cb before compression)."""
    check_same_sites(a, b, "hadamard")
    n, ca, d, _ = a.tensors.shape
    cb = b.bond_cap
    # [a, p, c] x [a', p, c'] -> [(a a'), p, (c c')]
    t = jnp.einsum("napc,nbpd->nabpcd", a.tensors, b.tensors).reshape(n, ca * cb, d, ca * cb)
    raw = MPS(t, jnp.zeros((n + 1, ca * cb), a.schmidt.dtype), a.log_norm + b.log_norm,
              _merge_fidelity(a, b), a.ranks)
    out, _ = canonicalize(raw, max_bond=max_bond or max(ca, cb), cutoff=cutoff)
    return out


def sample(key: jax.Array, mps: MPS, n_samples: int) -> Samples:
    """Perfect sampling of ``n_samples`` bitstrings ``[n_samples, n]`` from |psi|^2.

    Uses the right-canonical form: the probability of the next symbol given a prefix is the
    squared norm of the prefix vector times B_i, with nothing to contract on the right.
    """
    n, c, d, _ = mps.tensors.shape
    real = jnp.finfo(mps.dtype).dtype

    def one(k):
        def step(left, site_key):
            site, sk = site_key
            branch = jnp.einsum("a,apb->pb", left, site)          # [d, c]
            probs = jnp.sum(jnp.abs(branch) ** 2, axis=-1)
            probs = probs / jnp.sum(probs)
            x = jax.random.choice(sk, d, p=probs)
            nxt = branch[x] / jnp.sqrt(jnp.maximum(jnp.sum(jnp.abs(branch[x]) ** 2),
                                                   jnp.finfo(real).tiny))
            return nxt, x

        start = jnp.zeros((c,), mps.dtype).at[0].set(1.0)
        _, xs = jax.lax.scan(step, start, (mps.tensors, jax.random.split(k, n)))
        return xs

    return jax.vmap(one)(jax.random.split(key, n_samples))
