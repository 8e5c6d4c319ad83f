"""The dense backend: exact statevectors of up to ~26 qubits (``max_bond``/``cutoff`` ignored)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import dense, dense_host
from qtnet.tn.backends import register
from qtnet.tn.mpo import pauli_terms
from qtnet.tn.mps import default_dtype, real_dtype
from qtnet.tn.program import GateProgram


@jax.jit
def _run_program(state, sites, gates, final):
    state = dense.apply_two_site_sequence(state, sites, gates)
    return dense.apply_single_site_layer(state, final)


@jax.jit
def _pauli_sum(state, coeffs, local_ops):
    """One compiled read-out per number of terms, whatever the observable."""
    values = dense.expectation_local(state, local_ops)
    return jnp.real(jnp.sum(coeffs.astype(values.dtype) * values))


def _concrete(state) -> bool:
    """An unbatched state of concrete arrays (not being traced)."""
    return not isinstance(state.amplitudes, jax.core.Tracer) and state.amplitudes.ndim == 1


@dataclasses.dataclass(frozen=True)
class DenseBackend:
    """Operations on :class:`qtnet.tn.dense.DenseState`; see :class:`qtnet.tn.backends.Backend`."""

    name: str = "dense"
    state_type: ClassVar[type] = dense.DenseState

    def check_sites(self, n_sites):
        dense.check_size(n_sites)

    def encode(self, vector, *, max_bond=None, cutoff=0.0, dtype=None):
        return dense.from_vector(vector, dtype=dtype)

    def product_state(self, vectors, *, max_bond=1, dtype=None):
        return dense.product_state(vectors, dtype=dtype)

    def zero_state_for(self, program: GateProgram, n_qubits, *, max_bond=None, dtype=None):
        dtype = jnp.dtype(dtype or default_dtype())
        dense.check_size(n_qubits)
        amplitudes = np.zeros(2 ** n_qubits, dtype)
        amplitudes[0] = 1.0
        # device_put, not jnp.asarray: the latter compiles a small program per shape.
        return dense.DenseState(*jax.device_put((amplitudes, np.zeros((), real_dtype(dtype)))),
                                n_qubits, 2)

    def astype(self, state, dtype):
        return dataclasses.replace(state, amplitudes=state.amplitudes.astype(dtype))

    def apply_single_site_layer(self, state, gates):
        return dense.apply_single_site_layer(state, gates)

    def apply_brickwork(self, state, single, pairs, *, max_bond=None, cutoff=0.0):
        return dense.apply_brickwork(state, single, pairs)

    def apply_two_site_sequence(self, state, sites, gates, *, max_bond=None, cutoff=0.0):
        return dense.apply_two_site_sequence(state, sites, gates)

    def apply_program(self, state, program: GateProgram, *, max_bond=None, cutoff=0.0):
        if _concrete(state) and not program.traced:
            # Concrete gates: numpy gate by gate, no scan to compile (qtnet.tn.dense_host).
            psi = dense_host.apply_program_host(np.asarray(state.amplitudes), program.sites,
                                                program.gates, program.final, state.phys_dim)
            return dataclasses.replace(state, amplitudes=jax.device_put(psi))
        return _run_program(state, jnp.asarray(program.sites), program.gates, program.final)

    def apply_mpo(self, mpo, state, *, max_bond=None, cutoff=0.0):
        return dense.apply_mpo(mpo, state)

    def hadamard(self, a, b, *, max_bond=None, cutoff=0.0):
        return dense.hadamard(a, b)

    def add(self, a, b, *, max_bond=None, cutoff=0.0):
        return dense.add(a, b)

    def scale(self, state, factor):
        return dense.scale(state, factor)

    def compress(self, state, *, max_bond, cutoff=0.0):
        return state

    def overlap(self, bra, ket):
        return dense.overlap(bra, ket)

    def norm(self, state):
        return dense.norm(state)

    def expectation_pauli(self, state, observable):
        coeffs, local_ops = pauli_terms(observable, state.n_sites)
        if _concrete(state):            # a simulated circuit's read-out: no XLA compile
            values = dense_host.expectation_local_host(np.asarray(state.amplitudes),
                                                       local_ops, state.phys_dim)
            value = np.real(np.sum(coeffs * values))
            return jax.device_put(value.astype(real_dtype(state.dtype)))
        return _pauli_sum(state, jnp.asarray(coeffs), jnp.asarray(local_ops))

    def expectation_mpo(self, state, mpo):
        return dense.expectation_mpo(state, mpo)

    def marginal_probabilities(self, state, n_first):
        return dense.marginal_probabilities(state, n_first)

    def amplitudes(self, state):
        return dense.to_dense(state)

    def sample(self, key, state, n_samples):
        return dense.sample(key, state, n_samples)

    def fidelity(self, state):
        return state.fidelity_estimate


DENSE_BACKEND = register(DenseBackend())
