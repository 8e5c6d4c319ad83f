"""Contractions of MPS networks: overlaps, norms, expectation values (one scan each)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.checks import check_same_sites
from qtnet.tn.mpo import MPO, pauli_terms
from qtnet.tn.mps import MPS
from qtnet.tn.shapes import Expectations, LocalOperators, Probabilities, RealScalar, Scalar


def _transfer_scan(bra_t, ket_t):
    """Network overlap <bra|ket> of two stacked site arrays, rescaled per step.

    Returns ``(value, log_scale)`` with overlap = value * exp(log_scale).
    """
    ca, cb = bra_t.shape[1], ket_t.shape[1]
    start = jnp.zeros((ca, cb), ket_t.dtype).at[0, 0].set(1.0)

    def step(carry, sites):
        env, log_scale = carry
        a, b = sites
        env = jnp.einsum("ab,apc,bpd->cd", env, jnp.conj(a), b)
        scale = jnp.maximum(jnp.max(jnp.abs(env)), jnp.finfo(log_scale.dtype).tiny)
        return (env / scale, log_scale + jnp.log(scale)), None

    real = jnp.finfo(ket_t.dtype).dtype
    (env, log_scale), _ = jax.lax.scan(step, (start, jnp.zeros((), real)), (bra_t, ket_t))
    return env[0, 0], log_scale


def overlap(bra: MPS, ket: MPS) -> Scalar:
    """<bra|ket>, norms included."""
    check_same_sites(bra, ket, "overlap")
    value, log_scale = _transfer_scan(bra.tensors, ket.tensors)
    return value * jnp.exp(log_scale + bra.log_norm + ket.log_norm).astype(value.dtype)


def log_overlap(bra: MPS, ket: MPS) -> Scalar:
    """Complex log of <bra|ket>: real part log|<bra|ket>|, imaginary part its phase.

    Use it where the overlap itself would under- or overflow (e.g. 2^40-amplitude states).
    """
    check_same_sites(bra, ket, "log_overlap")
    value, log_scale = _transfer_scan(bra.tensors, ket.tensors)
    return jnp.log(value.astype(jnp.result_type(value.dtype, jnp.complex64))) + (
        log_scale + bra.log_norm + ket.log_norm)


def network_norm_sq(mps: MPS) -> RealScalar:
    """<psi|psi> of the network alone (1 for a canonical state, up to truncation)."""
    value, log_scale = _transfer_scan(mps.tensors, mps.tensors)
    return jnp.real(value) * jnp.exp(log_scale)


def norm(mps: MPS) -> RealScalar:
    """||psi||, recomputed by contraction (not just read from ``log_norm``)."""
    return jnp.sqrt(network_norm_sq(mps)) * jnp.exp(mps.log_norm)


def expectation_mpo(mps: MPS, mpo: MPO) -> Scalar:
    """<psi|O|psi> / <psi|psi> for an MPO ``O`` on the same sites."""
    check_same_sites(mps, mpo, "expectation_mpo")
    c, w = mps.bond_cap, mpo.bond_cap
    start = jnp.zeros((c, w, c), mps.dtype).at[0, 0, 0].set(1.0)
    ops = mpo.tensors.astype(mps.dtype)

    def step(env, sites):
        b, o = sites
        # env [bra, mpo, ket]; o "l o i r": bra takes the output index, ket the input.
        env = jnp.einsum("awb,axc,wxyv,byd->cvd", env, jnp.conj(b), o, b)
        return env, None

    env, _ = jax.lax.scan(step, start, (mps.tensors, ops))
    return env[0, 0, 0] / network_norm_sq(mps)


def expectation_local(mps: MPS, local_ops: LocalOperators) -> Expectations:
    """<psi| prod_i op_i |psi> / <psi|psi> for ``local_ops [..., n, d, d]`` (vmapped over ...)."""
    # A real state with complex operators (Y) is contracted in complex arithmetic: casting
    # the operators down would drop Y's imaginary entries (and Y x Y is real).
    dtype = jnp.result_type(mps.dtype, jnp.asarray(local_ops).dtype)
    local_ops = jnp.asarray(local_ops).astype(dtype)
    c = mps.bond_cap
    start = jnp.zeros((c, c), dtype).at[0, 0].set(1.0)

    def one(ops):
        def step(env, sites):
            b, op = sites
            return jnp.einsum("ab,axc,xy,byd->cd", env, jnp.conj(b), op, b), None

        env, _ = jax.lax.scan(step, start, (mps.tensors, ops))
        return env[0, 0]

    batch = local_ops.shape[:-3]
    flat = local_ops.reshape((-1,) + local_ops.shape[-3:])
    values = jax.vmap(one)(flat).reshape(batch)
    return values / network_norm_sq(mps)


def expectation_local_host(mps: MPS, local_ops) -> np.ndarray:
    """:func:`expectation_local` in numpy, for a concrete unbatched state: nothing to trace or
    compile (a read-out of a simulated circuit, where XLA's compile would cost more than
    the whole run). Bond slots whose tensors are zero are skipped, which is exact."""
    tensors = np.asarray(mps.tensors)                                 # [n, c, d, c] "l p r"
    n, c, d, _ = tensors.shape
    nonzero = [np.ones(1, bool) & (np.arange(c) == 0)]               # open boundary: e_0
    for i in range(1, n):
        nonzero.append(np.any(tensors[i - 1] != 0, axis=(0, 1))
                       & np.any(tensors[i] != 0, axis=(1, 2)))
    nonzero.append(np.arange(c) == 0)
    keep = [np.flatnonzero(m) for m in nonzero]
    blocks = [tensors[i][np.ix_(keep[i], np.arange(d), keep[i + 1])] for i in range(n)]
    ops = np.asarray(local_ops)
    dtype = np.result_type(tensors.dtype, ops.dtype)
    eye = np.eye(d)
    flat = ops.reshape((-1,) + ops.shape[-3:])
    acting = [[i for i, o in enumerate(term) if not np.array_equal(o, eye)] for term in flat]
    # Environments of the identity ("bra ket" bonds): right[i] closes sites i.., left[i]
    # opens ..i-1, so a term is contracted only over its support [lo, hi].
    right = [np.ones((1, 1), dtype)]
    for b in reversed(blocks):
        ket = np.tensordot(b, right[-1], axes=(2, 1))                     # [a, p, y]
        right.append(np.tensordot(b.conj(), ket, axes=([1, 2], [1, 2])))  # [x, a]
    right = right[::-1]
    left = [np.ones((1, 1), dtype)]
    for b in blocks[:max((a[0] for a in acting if a), default=0)]:
        left.append(np.tensordot(b.conj(), np.tensordot(left[-1], b, axes=(1, 0)),
                                 axes=([0, 1], [0, 1])))

    def term_value(term, sites):
        if not sites:
            return right[0][0, 0]
        env = left[sites[0]]
        for i in range(sites[0], sites[-1] + 1):
            ket = np.tensordot(env, blocks[i], axes=(1, 0))               # [a, y, d']
            if i in sites:
                ket = np.einsum("xy,ayc->axc", term[i], ket)
            env = np.tensordot(blocks[i].conj(), ket, axes=([0, 1], [0, 1]))  # [c, d']
        return np.sum(env * right[sites[-1] + 1])

    values = np.array([term_value(t, a) for t, a in zip(flat, acting)], dtype)
    return values.reshape(ops.shape[:-3]) / right[0][0, 0].real


def expectation_pauli(mps: MPS, observable) -> RealScalar:
    """Real expectation of a Hermitian Pauli sum: ``"Z3"``, ``"X0 Z5"`` or [(c, "..."), ...]."""
    coeffs, ops = pauli_terms(observable, mps.n_sites)
    values = expectation_local(mps, ops)
    return jnp.real(jnp.sum(jnp.asarray(coeffs).astype(values.dtype) * values))


def marginal_probabilities(mps: MPS, n_first: int) -> Probabilities:
    """Born probabilities ``[d^n_first]`` of the first ``n_first`` sites (site 0 most significant).

    Uses the right-canonical form: nothing right of the prefix needs contracting. After a
    truncation the form holds only approximately, so the distribution is renormalised.
    """
    n, c, d, _ = mps.tensors.shape
    if not 1 <= n_first <= n:
        raise ValueError(f"marginal over the first {n_first} sites of a {n}-site state")
    # prefix: [(p_0 ... p_i), r]; a Python loop over the (few, fixed) readout sites only
    prefix = jnp.zeros((1, c), mps.dtype).at[0, 0].set(1.0)
    for site in mps.tensors[:n_first]:
        prefix = jnp.einsum("xa,apb->xpb", prefix, site).reshape(-1, c)
    probs = jnp.sum(jnp.abs(prefix) ** 2, axis=-1)
    return probs / jnp.sum(probs)
