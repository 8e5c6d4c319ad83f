"""Real-dtype states: Pauli strings with Y (complex entries) must not lose their imaginary part."""

import jax.numpy as jnp
import numpy as np
import pytest

from qtnet import tn
from qtnet.tn import dense
from tests.helpers import pauli_matrix


@pytest.mark.parametrize("label", [{0: "Y", 1: "Y"}, {0: "X", 1: "Y", 2: "Y"}, {1: "Y"}])
def test_pauli_expectations_with_y_on_real_states(label):
    psi = np.random.default_rng(0).normal(size=8)
    text = " ".join(f"{p}{q}" for q, p in label.items())
    want = psi @ pauli_matrix(label, 3) @ psi / (psi @ psi)
    got_mps = tn.expectation_pauli(tn.mps_from_dense(psi, dtype=jnp.float64), text)
    got_dense = dense.expectation_pauli(dense.from_vector(psi, dtype=jnp.float64), text)
    np.testing.assert_allclose([got_mps, got_dense], [np.real(want)] * 2, atol=1e-12)


def test_complex_operator_on_a_real_state_promotes_instead_of_dropping_imaginary_parts():
    psi = np.random.default_rng(1).normal(size=8)
    op = tn.mpo_pauli("Y1", 3, dtype=jnp.complex128)
    want = pauli_matrix({1: "Y"}, 3) @ psi
    got = tn.apply_mpo(op, tn.mps_from_dense(psi, dtype=jnp.float64))
    np.testing.assert_allclose(tn.to_dense(got), want, atol=1e-12)
    got = dense.apply_mpo(op, dense.from_vector(psi, dtype=jnp.float64))
    np.testing.assert_allclose(got.to_dense(), want, atol=1e-12)
