"""The MPS backend: fixed-shape matrix product states, truncated to ``max_bond`` / ``cutoff``."""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import adaptive, algebra, canonical, contract, evolve, mps
from qtnet.tn.backends import register
from qtnet.tn.mpo import pauli_terms
from qtnet.tn.program import GateProgram, bond_cap_for


@functools.partial(jax.jit, static_argnames=("max_bond", "cutoff"))
def _run_program(state, sites, gates, final, max_bond, cutoff):
    state = evolve.apply_two_site_sequence(state, sites, gates, max_bond=max_bond, cutoff=cutoff)
    return evolve.apply_single_site_layer(state, final)


@jax.jit
def _pauli_sum(state, coeffs, local_ops):
    """One compiled read-out per number of terms, whatever the observable."""
    values = contract.expectation_local(state, local_ops)
    return jnp.real(jnp.sum(coeffs.astype(values.dtype) * values))


def _concrete(state) -> bool:
    """An unbatched state of concrete arrays (not being traced)."""
    return not isinstance(state.tensors, jax.core.Tracer) and state.tensors.ndim == 4


def basis_zero_state(n_qubits: int, chi: int, dtype) -> mps.MPS:
    """|0...0> with bond cap ``chi``, built on the host (no per-op dispatch)."""
    dtype = jnp.dtype(dtype or mps.default_dtype())
    tensors = np.zeros((n_qubits, chi, 2, chi), dtype)
    tensors[:, 0, 0, 0] = 1.0
    schmidt = np.zeros((n_qubits + 1, chi), mps.real_dtype(dtype))
    schmidt[:, 0] = 1.0
    zero = np.zeros((), mps.real_dtype(dtype))
    ranks = np.ones((n_qubits + 1,), np.int32)
    # device_put, not jnp.asarray / jnp.ones: those compile a small program per shape.
    return mps.MPS(*jax.device_put((tensors, schmidt, zero, zero, ranks)))


@dataclasses.dataclass(frozen=True)
class MPSBackend:
    """Operations on :class:`qtnet.tn.MPS`; see :class:`qtnet.tn.backends.Backend`."""

    name: str = "mps"
    state_type: ClassVar[type] = mps.MPS

    def check_sites(self, n_sites):
        pass                                   # memory grows linearly in the sites

    def encode(self, vector, *, max_bond=None, cutoff=0.0, dtype=None):
        return mps.mps_from_dense(vector, max_bond=max_bond, cutoff=cutoff, dtype=dtype)

    def product_state(self, vectors, *, max_bond=1, dtype=None):
        return mps.product_state(vectors, max_bond=max_bond, dtype=dtype)

    def zero_state_for(self, program: GateProgram, n_qubits, *, max_bond=None, dtype=None):
        # A concrete program grows the arrays as it runs (pass apply_program the bond limit).
        cap = bond_cap_for(program, max_bond, n_qubits) if program.traced else 1
        return basis_zero_state(n_qubits, cap, dtype)

    def astype(self, state, dtype):
        return dataclasses.replace(state, tensors=state.tensors.astype(dtype))

    def apply_single_site_layer(self, state, gates):
        return evolve.apply_single_site_layer(state, gates)

    def apply_brickwork(self, state, single, pairs, *, max_bond=None, cutoff=0.0):
        return evolve.apply_brickwork(state, single, pairs, max_bond=max_bond, cutoff=cutoff)

    def apply_two_site_sequence(self, state, sites, gates, *, max_bond=None, cutoff=0.0):
        return evolve.apply_two_site_sequence(state, sites, gates, max_bond=max_bond,
                                              cutoff=cutoff)

    def apply_program(self, state, program: GateProgram, *, max_bond=None, cutoff=0.0):
        concrete = not (program.traced or isinstance(state.tensors, jax.core.Tracer))
        if concrete and state.tensors.ndim == 4:
            # Concrete gates: run on the host at the state's own bonds (qtnet.tn.adaptive).
            return adaptive.apply_program_adaptive(state, program.sites, program.gates,
                                                   program.final, cutoff=cutoff,
                                                   max_bond=max_bond)
        return _run_program(state, jnp.asarray(program.sites), program.gates, program.final,
                            max_bond=max_bond, cutoff=cutoff)

    def apply_mpo(self, mpo, state, *, max_bond=None, cutoff=0.0):
        return algebra.apply_mpo(mpo, state, max_bond=max_bond, cutoff=cutoff)

    def hadamard(self, a, b, *, max_bond=None, cutoff=0.0):
        return algebra.hadamard(a, b, max_bond=max_bond, cutoff=cutoff)

    def add(self, a, b, *, max_bond=None, cutoff=0.0):
        return algebra.add(a, b, max_bond=max_bond, cutoff=cutoff)

    def scale(self, state, factor):
        return mps.scale(state, factor)

    def compress(self, state, *, max_bond, cutoff=0.0):
        return canonical.compress(state, max_bond=max_bond, cutoff=cutoff)[0]

    def overlap(self, bra, ket):
        return contract.overlap(bra, ket)

    def norm(self, state):
        return contract.norm(state)

    def expectation_pauli(self, state, observable):
        coeffs, local_ops = pauli_terms(observable, state.n_sites)
        if _concrete(state):            # a simulated circuit's read-out: no XLA compile
            values = contract.expectation_local_host(state, local_ops)
            value = np.real(np.sum(np.asarray(coeffs) * values))
            return jax.device_put(value.astype(np.asarray(state.schmidt).dtype))
        return _pauli_sum(state, np.asarray(coeffs), np.asarray(local_ops))

    def expectation_mpo(self, state, mpo):
        return contract.expectation_mpo(state, mpo)

    def marginal_probabilities(self, state, n_first):
        return contract.marginal_probabilities(state, n_first)

    def amplitudes(self, state):
        return mps.to_dense(state)

    def sample(self, key, state, n_samples):
        return algebra.sample(key, state, n_samples)

    def fidelity(self, state):
        if _concrete(state):
            return jax.device_put(np.exp(np.asarray(state.log_fidelity)))
        return state.fidelity_estimate


MPS_BACKEND = register(MPSBackend())
