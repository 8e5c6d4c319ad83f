"""A concrete program on the host statevector equals the gate-by-gate dense reference and the
compiled scan (complex and real gates), and the host read-out equals the compiled one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet.tn import backends, dense_host
from qtnet.tn.backends.dense import _pauli_sum, _run_program
from qtnet.tn.gates import FIXED_1Q, FIXED_2Q, ry
from qtnet.tn.mpo import pauli_terms
from qtnet.tn.program import compile_program
from tests.helpers import run_gates_dense
from tests.tn.test_program import random_circuit

DENSE = backends.get("dense")


def _real_circuit(n, rng):
    ops = [(FIXED_1Q["H"], (q,)) for q in range(n)]
    for _ in range(20):
        a, b = (int(q) for q in rng.choice(n, 2, replace=False))
        ops += [(FIXED_2Q[("CZ", "CNOT", "SWAP")[int(rng.integers(3))]], (a, b)),
                (np.asarray(ry(rng.uniform(0, 6.3))), (b,))]
    return ops


@pytest.mark.parametrize("kind", ["complex", "real"])
def test_host_program_equals_the_reference_and_the_scan(kind):
    n, rng = 5, np.random.default_rng(6)
    ops = random_circuit(n, 40, rng) if kind == "complex" else _real_circuit(n, rng)
    prog = compile_program(ops, n)
    assert np.any(np.asarray(prog.gates).imag) == (kind == "complex")
    zero = DENSE.zero_state_for(prog, n, dtype=jnp.complex128)
    state = DENSE.apply_program(zero, prog)                    # concrete: the host path
    assert state.amplitudes.dtype == jnp.complex128
    want = run_gates_dense(n, ops)
    np.testing.assert_allclose(np.asarray(state.amplitudes), want, atol=1e-12)
    scan = _run_program(zero, jnp.asarray(prog.sites), prog.gates, prog.final)
    np.testing.assert_allclose(np.asarray(scan.amplitudes), want, atol=1e-12)


def test_host_readout_equals_the_compiled_one():
    n, rng = 5, np.random.default_rng(2)
    psi = run_gates_dense(n, random_circuit(n, 30, rng))
    state = DENSE.encode(psi)
    observable = [(0.7, "Z0"), (-1.3, "X1 Y4"), (0.4, "Y0 Y3"), (2.0, "Z2 X3 Z4")]
    coeffs, ops = pauli_terms(observable, n)
    want = float(_pauli_sum(state, jnp.asarray(coeffs), jnp.asarray(ops)))
    got = float(DENSE.expectation_pauli(state, observable))
    assert got == pytest.approx(want, abs=1e-12)
    values = dense_host.expectation_local_host(psi, ops)
    assert float(np.real(np.sum(coeffs * values))) == pytest.approx(want, abs=1e-12)
    assert float(jax.jit(DENSE.expectation_pauli, static_argnums=1)(
        state, "Z0")) == pytest.approx(float(np.real(values[0])), abs=1e-12)
