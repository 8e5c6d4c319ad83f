"""Dense statevector backend with the MPS backend's interface: exact, up to ~24 qubits.

A :class:`DenseState` is a unit vector ``[d^n]`` (site 0 the most significant index) plus a
``log_norm``, like :class:`qtnet.tn.MPS`; functions here mirror their MPS namesakes so that
circuits and tests can swap backends. ``max_bond`` and ``cutoff`` are accepted and ignored.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import checks
from qtnet.tn.mpo import MPO, pauli_terms
from qtnet.tn.log_scaled import Untruncated
from qtnet.tn.mps import default_dtype, real_dtype, vectors_from_label
from qtnet.tn.shapes import (BrickworkPairs, BrickworkSingles, Expectations, Gate, GateSequence,
                             GateSites, LocalOperators, LocalVectors, PairLayer, Probabilities,
                             RealScalar, Samples, Scalar, SingleSiteLayer, StateVector,
                             VectorLike)

MAX_DENSE_SITES = 26


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DenseState(Untruncated):
    amplitudes: StateVector      # [d^n], unit norm
    log_norm: jax.Array
    n_sites: int = dataclasses.field(metadata=dict(static=True))
    phys_dim: int = dataclasses.field(default=2, metadata=dict(static=True))

    @property
    def dtype(self):
        return self.amplitudes.dtype

    def max_bond_used(self) -> int | None:
        """Largest Schmidt rank over the cuts, for n <= 16 sites (None above: too costly)."""
        d, n = self.phys_dim, self.n_sites
        if n > 16:
            return None
        # One left-to-right sweep: the remainder s V^H after each cut carries the same Schmidt
        # values as the state at that cut, and is only as tall as the rank kept so far.
        rest = np.asarray(self.amplitudes).reshape(1, -1)
        tol = 10 * np.finfo(rest.dtype).eps
        largest = 1
        for _ in range(n - 1):
            rest = rest.reshape(rest.shape[0] * d, -1)
            _, s, vh = np.linalg.svd(rest, full_matrices=False)
            rank = max(int(np.sum(s > tol * s[0])), 1)
            largest = max(largest, rank)
            rest = s[:rank, None] * vh[:rank]
        return largest

    def to_dense(self):
        return to_dense(self)

    def tensor(self):
        return self.amplitudes.reshape((self.phys_dim,) * self.n_sites)


def check_size(n: int, d: int = 2) -> None:
    """Refuse more sites than a statevector can hold here."""
    if n > MAX_DENSE_SITES:
        raise ValueError(f"the dense backend holds at most {MAX_DENSE_SITES} sites "
                         f"({d}^{n} amplitudes requested); use backend='mps'")


def from_vector(psi: VectorLike, *, n_sites: int | None = None, phys_dim: int = 2,
                dtype=None) -> DenseState:
    """The unit state of ``psi`` (its norm goes to ``log_norm``)."""
    dtype = dtype or default_dtype()
    psi = jnp.asarray(psi).astype(dtype).reshape(-1)
    n = checks.sites_for_length(psi.shape[0], phys_dim, n_sites)
    check_size(n, phys_dim)
    checks.require_finite(psi, "dense state input")
    nrm = jnp.linalg.norm(psi)
    checks.require_nonzero(nrm, "dense state input")
    return DenseState(psi / nrm, jnp.log(nrm).astype(real_dtype(dtype)), n, phys_dim)


def product_state(vectors: LocalVectors | str, *, dtype=None, **_) -> DenseState:
    """Product state from one local vector per site, or a label such as ``"0+10"``."""
    if isinstance(vectors, str):
        vectors = vectors_from_label(vectors)
    dtype = dtype or default_dtype()
    vectors = jnp.asarray(vectors, dtype)
    n, d = vectors.shape
    check_size(n, d)
    psi = vectors[0]
    for v in vectors[1:]:
        psi = jnp.kron(psi, v)
    return from_vector(psi, phys_dim=d, dtype=dtype)


def to_dense(state: DenseState) -> StateVector:
    """The state vector, norm included."""
    return state.amplitudes * jnp.exp(state.log_norm).astype(state.dtype)


def _apply(state: DenseState, gate, sites) -> DenseState:
    d, k = state.phys_dim, len(sites)
    first = sites[0]
    if tuple(sites) == tuple(range(first, first + k)):
        # Adjacent sites in order: one pass, no transpose.
        #   [left, d^k, right] --gate on the middle axis--> [left, d^k, right]
        vec = _apply_block(state.amplitudes, jnp.asarray(gate).astype(state.dtype),
                           d ** first, d ** (state.n_sites - first - k))
        return dataclasses.replace(state, amplitudes=vec)
    g = jnp.asarray(gate).astype(state.dtype).reshape((d,) * (2 * k))
    t = jnp.tensordot(g, state.tensor(), axes=(list(range(k, 2 * k)), list(sites)))
    t = jnp.moveaxis(t, list(range(k)), list(sites))
    return dataclasses.replace(state, amplitudes=t.reshape(-1))


def _apply_block(vec, gate, left: int, right: int):
    """``gate [m, m]`` on the middle axis of ``vec`` seen as ``[left, m, right]``."""
    m = gate.shape[0]
    return jnp.einsum("ab,lbr->lar", gate, vec.reshape(left, m, right)).reshape(-1)


def apply_gate(state: DenseState, gate: Gate, sites, **_) -> DenseState:
    """One gate on the given sites (any order, adjacent or not)."""
    sites = tuple(int(s) for s in np.atleast_1d(sites))
    for s in sites:
        if not 0 <= s < state.n_sites:
            raise ValueError(f"site {s} out of range for a state of {state.n_sites} sites")
    if len(set(sites)) != len(sites):
        raise ValueError(f"gate sites must be distinct, got {sites}")
    d = state.phys_dim
    if tuple(jnp.shape(gate)) != (d ** len(sites),) * 2:
        raise ValueError(f"gate on sites {sites}: expected shape {(d ** len(sites),) * 2}, "
                         f"got {tuple(jnp.shape(gate))}")
    return _apply(state, gate, sites)


def apply_single_site_layer(state: DenseState, gates: SingleSiteLayer) -> DenseState:
    """One gate per site."""
    for q in range(state.n_sites):
        state = _apply(state, gates[q], (q,))
    return state


def apply_pair_layer(state: DenseState, gates: PairLayer, offset: int, **_) -> DenseState:
    """Gates on the pairs ``(offset + 2k, offset + 2k + 1)``."""
    for k in range((state.n_sites - offset) // 2):
        state = _apply(state, gates[k], (offset + 2 * k, offset + 2 * k + 1))
    return state


def _fused_pair_layer(state: DenseState, single, pairs, offset: int) -> DenseState:
    """``single`` on every site then ``pairs`` from ``offset``, one pass per pair: each
    pair's gate absorbs its two single-site gates, ``G (s_i (x) s_{i+1})``."""
    n, d = state.n_sites, state.phys_dim
    m = (n - offset) // 2
    single = single.astype(state.dtype)
    if m:
        left = single[offset:offset + 2 * m:2]                    # [m, d, d]
        right = single[offset + 1:offset + 2 * m:2]
        kron = jnp.einsum("kab,kcd->kacbd", left, right).reshape(m, d * d, d * d)
        fused = jnp.einsum("kxy,kyz->kxz", pairs[:m].astype(state.dtype), kron)
        for k in range(m):
            state = _apply(state, fused[k], (offset + 2 * k, offset + 2 * k + 1))
    for q in [q for q in range(n) if not offset <= q < offset + 2 * m]:
        state = _apply(state, single[q], (q,))
    return state


def apply_brickwork(state: DenseState, single: BrickworkSingles, pairs: BrickworkPairs,
                    **_) -> DenseState:
    """Dense twin of :func:`qtnet.tn.evolve.apply_brickwork`.

    One ``lax.scan`` over pairs of layers; each layer costs one pass over the vector per
    pair of sites (single-site gates are fused into the pair gates). The scan body is
    rematerialised, so reverse mode stores one vector per pair of layers, not one per gate.
    """
    single, pairs = jnp.asarray(single), jnp.asarray(pairs)
    depth = single.shape[0]

    @jax.checkpoint
    def period(s, xs):
        s0, p0, s1, p1 = xs
        return _fused_pair_layer(_fused_pair_layer(s, s0, p0, 0), s1, p1, 1), None

    half = depth // 2
    if half:
        xs = (single[0:2 * half:2], pairs[0:2 * half:2], single[1:2 * half:2], pairs[1:2 * half:2])
        state, _ = jax.lax.scan(period, state, xs)
    if depth % 2:
        state = _fused_pair_layer(state, single[-1], pairs[-1], 0)
    return state


def apply_two_site_sequence(state: DenseState, sites: GateSites, gates: GateSequence,
                            **_) -> DenseState:
    """Scan over gates on ``(sites[k], sites[k] + 1)``; one switch branch per position."""
    gates = jnp.asarray(gates)
    if gates.shape[0] == 0:
        return state
    branches = [lambda s, g, i=i: _apply(s, g, (i, i + 1)) for i in range(state.n_sites - 1)]

    def step(s, op):
        i, g = op
        return jax.lax.switch(i, branches, s, g), None

    state, _ = jax.lax.scan(step, state, (jnp.asarray(sites, jnp.int32), gates))
    return state


def overlap(bra: DenseState, ket: DenseState) -> Scalar:
    """<bra|ket>, norms included."""
    return jnp.vdot(bra.amplitudes, ket.amplitudes) * jnp.exp(bra.log_norm + ket.log_norm)


def norm(state: DenseState) -> RealScalar:
    """||psi||."""
    return jnp.linalg.norm(state.amplitudes) * jnp.exp(state.log_norm)


def expectation_local(state: DenseState, local_ops: LocalOperators) -> Expectations:
    """``<psi| (x)_q ops[q] |psi> / <psi|psi>`` for each ``[n, d, d]`` product in ``local_ops``.

    When the operators are concrete (not traced), identity factors are skipped: a Pauli
    term on one site costs one pass over the vector, not n.
    """
    concrete = None if isinstance(local_ops, jax.core.Tracer) else np.asarray(local_ops)
    dtype = jnp.result_type(state.dtype, jnp.asarray(local_ops).dtype)   # keep Y's imaginary part
    local_ops = jnp.asarray(local_ops).astype(dtype)
    n, d = state.n_sites, state.phys_dim
    psi = state.amplitudes.astype(dtype)
    batch = local_ops.shape[:-3]
    flat = local_ops.reshape((-1,) + local_ops.shape[-3:])

    def apply_term(ops, sites):
        t = psi
        for q in sites:
            t = _apply_block(t, ops[q], d ** q, d ** (n - q - 1))
        return jnp.vdot(psi, t)

    if concrete is not None and flat.shape[0] <= 64:     # (traced per term: keep K small)
        eye = np.eye(d)
        terms = concrete.reshape(flat.shape)
        values = jnp.stack([apply_term(flat[k], [q for q in range(n)
                                                 if not np.array_equal(terms[k, q], eye)])
                            for k in range(flat.shape[0])])
    else:
        values = jax.vmap(lambda ops: apply_term(ops, range(n)))(flat)
    return values.reshape(batch) / jnp.vdot(state.amplitudes, state.amplitudes)


def expectation_pauli(state: DenseState, observable) -> RealScalar:
    """Apply each Pauli term to the vector directly: O(K n 2^n), no 2^n x 2^n matrix."""
    coeffs, ops = pauli_terms(observable, state.n_sites)
    values = expectation_local(state, ops)
    return jnp.real(jnp.sum(jnp.asarray(coeffs).astype(values.dtype) * values))


def expectation_mpo(state: DenseState, mpo: MPO) -> Scalar:
    """<psi|O|psi> / <psi|psi>, the MPO applied core by core (:func:`apply_mpo`)."""
    psi = state.amplitudes
    o_psi = to_dense(apply_mpo(mpo, dataclasses.replace(state, log_norm=jnp.zeros_like(
        state.log_norm))))
    return jnp.vdot(psi.astype(o_psi.dtype), o_psi) / jnp.vdot(psi, psi)


def _with_vector(state: DenseState, vec, log_norm) -> DenseState:
    """``state`` holding the (unnormalised) ``vec`` times ``exp(log_norm)``."""
    nrm = jnp.linalg.norm(vec)
    safe = jnp.where(nrm > 0, nrm, 1.0)
    return dataclasses.replace(state, amplitudes=vec / safe,
                               log_norm=log_norm + jnp.log(nrm).astype(state.log_norm.dtype))


def apply_mpo(mpo: MPO, state: DenseState, **_) -> DenseState:
    """``O|psi>`` one MPO core at a time, never the ``d^n x d^n`` matrix: O(n w^2 d 2^n) flops
    and ``w d^n`` memory for MPO bond ``w``.

    One ``lax.scan`` over the sites: the vector is held as ``[w, d (this site), rest]`` with
    the sites still to do first and the done ones after them, so every step has the same
    shape; the core acts on the leading site, which then moves to the end. After ``n`` steps
    the sites are back in order and the bond is closed on its index 0.
    """
    dtype = jnp.result_type(state.dtype, mpo.dtype)  # a complex MPO makes a real state complex
    n, w, d = mpo.n_sites, mpo.bond_cap, mpo.phys_dim
    rest = d ** (n - 1)
    vec = jnp.zeros((w, d, rest), dtype).at[0].set(state.amplitudes.astype(dtype).reshape(d, rest))

    def site(v, core):                                  # v [w, d, rest], core [w, o, i, w']
        out = jnp.einsum("aoib,air->bro", core.astype(dtype), v)        # [w', rest, o]
        return out.reshape(w, d, rest), None

    vec, _ = jax.lax.scan(site, vec, mpo.tensors)
    return _with_vector(state, vec[0].reshape(-1), state.log_norm)


def add(a: DenseState, b: DenseState, **_) -> DenseState:
    """``|a> + |b>`` (norms included)."""
    ref = jnp.maximum(a.log_norm, b.log_norm)
    vec = (a.amplitudes * jnp.exp(a.log_norm - ref).astype(a.dtype)
           + b.amplitudes * jnp.exp(b.log_norm - ref).astype(b.dtype))
    return _with_vector(a, vec, ref)


def scale(state: DenseState, factor) -> DenseState:
    """``factor |psi>``: the modulus goes into ``log_norm``, the phase into the amplitudes."""
    factor = jnp.asarray(factor)
    mag = jnp.abs(factor)
    phase = jnp.where(mag > 0, factor / jnp.where(mag > 0, mag, 1), 1).astype(state.dtype)
    return dataclasses.replace(state, amplitudes=state.amplitudes * phase,
                               log_norm=state.log_norm + jnp.log(mag))


def hadamard(a: DenseState, b: DenseState, **_) -> DenseState:
    """Elementwise product ``a ⊙ b`` (norms included)."""
    return _with_vector(a, a.amplitudes * b.amplitudes, a.log_norm + b.log_norm)


def marginal_probabilities(state: DenseState, n_first: int) -> Probabilities:
    """Born probabilities ``[d^n_first]`` of the first ``n_first`` sites (site 0 leading)."""
    d, n = state.phys_dim, state.n_sites
    if not 1 <= n_first <= n:
        raise ValueError(f"marginal over the first {n_first} sites of a {n}-site state")
    probs = jnp.sum((jnp.abs(state.amplitudes) ** 2).reshape(d**n_first, -1), axis=-1)
    return probs / jnp.sum(probs)


def sample(key: jax.Array, state: DenseState, n_samples: int) -> Samples:
    """Exact sampling of ``[n_samples, n]`` symbol strings from |psi|^2."""
    probs = jnp.abs(state.amplitudes) ** 2
    idx = jax.random.choice(key, probs.shape[0], (n_samples,), p=probs / jnp.sum(probs))
    d, n = state.phys_dim, state.n_sites
    powers = d ** jnp.arange(n - 1, -1, -1)
    return (idx[:, None] // powers[None, :]) % d
