"""MPO builders, application, expectation values."""

import functools
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qtnet.tn as tn
from tests.helpers import pauli_matrix, random_state


@given(n=st.sampled_from([1, 2, 4]), seed=st.integers(0, 10**6))
def test_mpo_from_dense_round_trip(n, seed):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(2**n, 2**n)) + 1j * rng.normal(size=(2**n, 2**n))
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(tn.mpo_from_dense(m))), m, atol=1e-10)


def test_pauli_sum_mpo_and_identity():
    n = 4
    obs = [(0.5, "X0 Z3"), (-1.5, "Y1"), (2.0, "")]
    ref = (0.5 * pauli_matrix({0: "X", 3: "Z"}, n) - 1.5 * pauli_matrix({1: "Y"}, n)
           + 2.0 * np.eye(2**n))
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(tn.mpo_pauli(obs, n))), ref, atol=1e-14)
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(tn.mpo_identity(n))), np.eye(2**n))
    one_site = tn.mpo_sum([tn.mpo_pauli("X0", 1), tn.mpo_pauli("Z0", 1)], [1.0, 3.0])
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(one_site)),
                               [[3, 1], [1, -3]], atol=1e-14)


def test_apply_mpo_and_expectations_match_dense(rng):
    n = 5
    psi = random_state(n, rng)
    state = tn.mps_from_dense(psi)
    m = rng.normal(size=(2**n, 2**n))
    op = tn.mpo_from_dense(m)
    out = tn.apply_mpo(op, state, max_bond=8)
    np.testing.assert_allclose(np.asarray(tn.to_dense(out)), m @ psi, atol=1e-10)
    h = m + m.T
    expect = np.vdot(psi, h @ psi).real
    assert float(np.real(tn.expectation_mpo(state, tn.mpo_from_dense(h)))) == pytest.approx(
        expect, abs=1e-10)
    obs = [(0.3, "Z0 Z1"), (1.1, "X2 Y4")]
    ref = 0.3 * pauli_matrix({0: "Z", 1: "Z"}, n) + 1.1 * pauli_matrix({2: "X", 4: "Y"}, n)
    value = np.vdot(psi, ref @ psi).real
    assert float(tn.expectation_pauli(state, obs)) == pytest.approx(value, abs=1e-10)
    assert float(np.real(tn.expectation_mpo(state, tn.mpo_pauli(obs, n)))) == pytest.approx(
        value, abs=1e-10)


def test_apply_mpo_truncation_is_measured(rng):
    """M|psi> truncated to bond 2 and 4: the norm is ||M psi||, the true fidelity against the
    dense product is the one reported, and as good as the best state of that bond (the
    exact product compressed); at the full bond 8 it is exact. (M is a sum of three
    Kronecker products, MPO bond 3: a generic 64 x 64 M has bond 64 and takes ~80 s.)"""
    n = 6
    psi = random_state(n, rng)
    state = tn.mps_from_dense(psi)
    m = sum(functools.reduce(np.kron, rng.normal(size=(n, 2, 2))) for _ in range(3))
    op = tn.mpo_from_dense(m)
    assert op.bond_cap == 3
    exact = m @ psi
    fidelities = []
    for chi in (2, 4, 8):
        out = tn.apply_mpo(op, state, max_bond=chi)
        approx = np.asarray(tn.to_dense(out))
        assert out.bond_cap == chi
        assert np.linalg.norm(approx) == pytest.approx(np.linalg.norm(exact), rel=1e-10)
        true_fid = abs(np.vdot(exact, approx)) ** 2 / np.vdot(approx, approx).real / np.vdot(
            exact, exact).real
        best = np.asarray(tn.to_dense(tn.compress(tn.mps_from_dense(exact), max_bond=chi)[0]))
        best_fid = abs(np.vdot(exact, best)) ** 2 / np.vdot(best, best).real / np.vdot(
            exact, exact).real
        assert float(out.fidelity_estimate) == pytest.approx(true_fid, rel=1e-3)
        assert true_fid >= best_fid - 1e-3
        fidelities.append(true_fid)
    assert fidelities[0] < fidelities[1] < 1 - 1e-4 and fidelities[2] == pytest.approx(1, abs=1e-12)


@pytest.mark.parametrize("text, match", [
    ("Q3", "bad Pauli term"), ("Z9", "acts on site 9"), ("Z1 X1", "twice"), ("Z-1", "bad"),
])
def test_bad_pauli_strings(text, match):
    with pytest.raises(ValueError, match=match):
        tn.mpo_pauli(text, 4)


def test_mismatched_sites_are_rejected(rng):
    state = tn.mps_from_dense(random_state(3, rng))
    with pytest.raises(ValueError, match="different sites"):
        tn.apply_mpo(tn.mpo_identity(4), state)
    with pytest.raises(ValueError, match="square"):
        tn.mpo_from_dense(np.ones((4, 2)))
    with pytest.raises(ValueError, match="different sites"):
        tn.mpo_sum([tn.mpo_identity(3), tn.mpo_identity(4)])
