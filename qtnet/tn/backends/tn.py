"""The tn backend: exact contraction of the whole circuit as one tensor network.

A state is a lazy :class:`qtnet.tn.network_state.NetworkState` (initial vectors plus the
gates applied); read-outs contract ``<psi| O |psi>`` (or ``<x|psi>``, ``<a|b>``) after
dropping the gates outside the observable's light cone, along a cotengra path found once
per network structure (:mod:`qtnet.tn.network`). Nothing is truncated and no state vector
is built, so a local observable of a shallow circuit is exact at any ``n``.

What a lazy network cannot do cheaply is refused with the backend to use instead: MPO
application, sums and Hadamard products of states (they change the network's topology into
something no circuit read-out needs) and sampling. A state's structure grows with every gate,
so it cannot be the carry of a ``lax.scan`` over layers (the Figure 2 classifier scans its
layers): this backend is for circuits (``Circuit``, ``qtnet simulate``) and losses written as
one sequence of gates and a read-out. Gradients are reverse mode (``jax.grad``,
``value_and_grad``; gates are unstacked under a ``custom_vjp``).

``auto`` rule (:func:`cheaper_than_statevector`): the network wins when its planned
contraction (multiply-adds, summed over the observable's terms and the norm) costs less
than applying the gates to a ``2^n`` statevector, and its largest intermediate fits where
the statevector would (at most ``2^MAX_DENSE_SITES`` entries).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import dense
from qtnet.tn import network_state as ns
from qtnet.tn.backends import register
from qtnet.tn.mpo import pauli_terms
from qtnet.tn.mps import default_dtype
from qtnet.tn.program import GateProgram


def _unsupported(operation: str, instead: str = "'mps' or 'dense'"):
    raise NotImplementedError(
        f"the tn backend has no {operation}: it keeps a circuit as a lazy network and "
        f"contracts read-outs (expectations, amplitudes, overlaps, marginals) exactly; "
        f"use backend {instead} for {operation}")


def _concrete_sites(sites, what: str) -> np.ndarray:
    if isinstance(sites, jax.core.Tracer):
        raise ValueError(f"the tn backend needs concrete {what} (the network's structure is "
                         f"fixed before tracing); got a traced array")
    return np.asarray(sites, np.int64).reshape(-1)


@functools.partial(jax.jit, static_argnums=2)
def _pauli_sum(state, coeffs, terms):
    """One compiled read-out per (network structure, observable)."""
    values = ns.expectation_terms(state, terms)
    return jnp.real(jnp.sum(coeffs.astype(values.dtype) * values))


# Every read-out is one compiled network per structure (eagerly, each einsum would compile on
# its own).
_overlap = jax.jit(ns.overlap)
_norm_squared = jax.jit(ns.norm_squared)
_amplitudes = jax.jit(ns.amplitudes)
_amplitude = jax.jit(ns.amplitude, static_argnums=1)
_marginal = jax.jit(ns.marginal_probabilities, static_argnums=1)
_expectation_mpo = jax.jit(ns.expectation_mpo)


def brickwork_wires(n: int, offset: int) -> tuple[list[tuple[int, int]], list[int]]:
    """The pairs ``(i, i + 1)`` of a brickwork layer from ``offset`` and the sites no pair
    covers."""
    pairs = [(i, i + 1) for i in range(offset, n - 1, 2)]
    covered = {q for p in pairs for q in p}
    return pairs, [q for q in range(n) if q not in covered]


@dataclasses.dataclass(frozen=True)
class NetworkBackend:
    """Operations on :class:`qtnet.tn.network_state.NetworkState`; see
    :class:`qtnet.tn.backends.Backend`. ``max_bond`` / ``cutoff`` are accepted and ignored
    (nothing is truncated)."""

    name: str = "tn"
    state_type: ClassVar[type] = ns.NetworkState

    def check_sites(self, n_sites):
        if n_sites < 1:
            raise ValueError(f"a network needs at least one site, got {n_sites}")

    def encode(self, vector, *, max_bond=None, cutoff=0.0, dtype=None):
        return ns.encode(vector, dtype=dtype)

    def product_state(self, vectors, *, max_bond=1, dtype=None):
        return ns.product_state(vectors, dtype=dtype)

    def zero_state_for(self, program: GateProgram, n_qubits, *, max_bond=None, dtype=None):
        vectors = np.zeros((n_qubits, 2))
        vectors[:, 0] = 1.0
        return ns.product_state(vectors, dtype=jnp.dtype(dtype or default_dtype()))

    def astype(self, state, dtype):
        return ns.astype(state, dtype)

    def apply_single_site_layer(self, state, gates):
        return ns.append(state, gates, [(q,) for q in range(state.n_sites)])

    def apply_brickwork(self, state, single, pairs, *, max_bond=None, cutoff=0.0):
        """Each layer's single-site gates are multiplied into its pair gates first
        (``G (s_i (x) s_{i+1})``), all layers of one parity in one einsum: a third of the
        tensors, and a few operations whatever the depth."""
        single, pairs = jnp.asarray(single), jnp.asarray(pairs)
        n, d = state.n_sites, state.phys_dim
        depth = single.shape[0]
        if single.shape[1:] != (n, d, d) or pairs.shape[:1] != (depth,) or \
                pairs.shape[1:] != (n // 2, d * d, d * d):
            raise ValueError(f"brickwork on {n} sites: expected single [D, {n}, {d}, {d}] and "
                             f"pairs [D, {n // 2}, {d * d}, {d * d}], got {single.shape} and "
                             f"{pairs.shape}")
        blocks, slots = [], {}
        for parity in (0, 1):
            layers = range(parity, depth, 2)
            if not layers:
                continue
            wires, alone = brickwork_wires(n, parity)
            s = single[parity::2]                                   # [L, n, d, d]
            m = len(wires)
            if m:
                left, right = s[:, parity:parity + 2 * m:2], s[:, parity + 1:parity + 2 * m:2]
                kron = jnp.einsum("lkab,lkcd->lkacbd", left, right).reshape(-1, m, d * d, d * d)
                fused = jnp.einsum("lkxy,lkyz->lkxz", pairs[parity::2, :m], kron)
                slots[parity, "pairs"] = len(blocks)
                blocks.append((fused.reshape(-1, d * d, d * d), wires * len(layers)))
            if alone:
                slots[parity, "alone"] = len(blocks)
                blocks.append((s[:, np.asarray(alone)].reshape(-1, d, d),
                               [(q,) for q in alone] * len(layers)))
        order = []
        for layer in range(depth):
            parity, nth = layer % 2, layer // 2
            for kind, per in (("pairs", len(brickwork_wires(n, parity)[0])),
                              ("alone", len(brickwork_wires(n, parity)[1]))):
                if (parity, kind) in slots:
                    order += [(slots[parity, kind], nth * per + k) for k in range(per)]
        return ns.append_blocks(state, blocks, order)

    def apply_two_site_sequence(self, state, sites, gates, *, max_bond=None, cutoff=0.0):
        sites = _concrete_sites(sites, "gate sites")
        return ns.append(state, gates, [(int(i), int(i) + 1) for i in sites])

    def apply_program(self, state, program: GateProgram, *, max_bond=None, cutoff=0.0):
        state = self.apply_two_site_sequence(state, program.sites, program.gates)
        return self.apply_single_site_layer(state, program.final)

    def apply_mpo(self, mpo, state, *, max_bond=None, cutoff=0.0):
        _unsupported("MPO application (expectation_mpo reads an MPO out)")

    def hadamard(self, a, b, *, max_bond=None, cutoff=0.0):
        _unsupported("Hadamard products")

    def add(self, a, b, *, max_bond=None, cutoff=0.0):
        _unsupported("state sums")

    def scale(self, state, factor):
        return ns.scale(state, factor)

    def compress(self, state, *, max_bond, cutoff=0.0):
        return state                    # exact: nothing to truncate

    def overlap(self, bra, ket):
        return _overlap(bra, ket)

    def norm(self, state):
        return jnp.sqrt(_norm_squared(state)) * jnp.exp(state.log_norm)

    def expectation_pauli(self, state, observable):
        coeffs, local_ops = pauli_terms(observable, state.n_sites)
        return _pauli_sum(state, jnp.asarray(coeffs), ns.local_terms(local_ops))

    def expectation_mpo(self, state, mpo):
        return _expectation_mpo(state, mpo)

    def marginal_probabilities(self, state, n_first):
        return _marginal(state, int(n_first))

    def amplitudes(self, state):
        ns.check_open(state.n_sites, state.phys_dim, "the state vector")
        return _amplitudes(state)

    def amplitude(self, state, bits):
        """``<bits|psi>`` of one basis string, norm included (any ``n``)."""
        return _amplitude(state, tuple(int(x) for x in bits))

    def sample(self, key, state, n_samples):
        _unsupported("sampling", "'mps' (or marginal_probabilities here)")

    def fidelity(self, state):
        return state.fidelity_estimate


def statevector_cost(n_qubits: int, program: GateProgram, d: int = 2) -> float:
    """Multiply-adds of running ``program`` on a ``d^n`` statevector: ``d^2`` per amplitude
    for each two-site gate, ``d`` for each final single-site gate."""
    return float(d ** n_qubits) * (len(program.sites) * d * d + n_qubits * d)


def cheaper_than_statevector(program: GateProgram, n_qubits: int, observable) -> bool:
    """Whether ``backend: auto`` should contract ``observable`` of ``program`` as a network:
    its plans (searched now, then cached for the run) cost fewer multiply-adds than the
    statevector, and no intermediate is larger than the statevector limit."""
    if program.traced:
        return n_qubits > dense.MAX_DENSE_SITES
    state = NETWORK_BACKEND.apply_program(
        NETWORK_BACKEND.zero_state_for(program, n_qubits, dtype=program.gates.dtype), program)
    eye = np.eye(2)
    _, local_ops = pauli_terms(observable, n_qubits)
    supports = {tuple(q for q in range(n_qubits) if not np.array_equal(ops[q], eye))
                for ops in local_ops} | {()}
    costs = [ns.expectation_cost(state, s) for s in supports]
    flops = sum(c for c, _ in costs)
    fits = max(size for _, size in costs) <= 2 ** dense.MAX_DENSE_SITES
    if n_qubits > dense.MAX_DENSE_SITES:
        return fits
    return fits and flops < statevector_cost(n_qubits, program)


NETWORK_BACKEND = register(NetworkBackend())
