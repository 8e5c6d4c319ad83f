"""Sums, Hadamard products, overlaps and sampling against dense vectors."""

import jax
import numpy as np
import pytest

import qtnet.tn as tn
from tests.helpers import random_state


def test_add_hadamard_overlap_match_dense(rng):
    n = 5
    a, b = random_state(n, rng) * 3.0, random_state(n, rng) * 0.5
    sa, sb = tn.mps_from_dense(a), tn.mps_from_dense(b)
    np.testing.assert_allclose(np.asarray(tn.to_dense(tn.add(sa, sb))), a + b, atol=1e-10)
    had = tn.hadamard(sa, sb, max_bond=16)
    np.testing.assert_allclose(np.asarray(tn.to_dense(had)), a * b, atol=1e-10)
    assert complex(tn.overlap(sa, sb)) == pytest.approx(np.vdot(a, b), abs=1e-10)
    assert float(tn.norm(sa)) == pytest.approx(np.linalg.norm(a), abs=1e-10)


def test_hadamard_of_product_states_stays_product():
    a, b = tn.product_state("++0"), tn.product_state("+-1")
    out = tn.hadamard(a, b)
    assert out.max_bond_used() == 1
    np.testing.assert_allclose(np.asarray(tn.to_dense(out)),
                               np.asarray(tn.to_dense(a)) * np.asarray(tn.to_dense(b)),
                               atol=1e-14)


def test_add_of_orthogonal_product_states_makes_ghz():
    ghz = tn.add(tn.product_state("0000"), tn.product_state("1111"), max_bond=2)
    assert ghz.max_bond_used() == 2
    vec = np.asarray(tn.to_dense(ghz))
    assert vec[0] == pytest.approx(1) and vec[-1] == pytest.approx(1)


def test_perfect_sampling_matches_born_rule(rng):
    n = 5
    psi = random_state(n, rng)
    state = tn.mps_from_dense(psi)
    samples = np.asarray(tn.sample(jax.random.PRNGKey(1), state, 40000))
    idx = samples @ (2 ** np.arange(n - 1, -1, -1))
    freq = np.bincount(idx, minlength=2**n) / len(idx)
    assert 0.5 * np.abs(freq - np.abs(psi) ** 2).sum() < 0.03


def test_sampling_a_basis_state_is_deterministic():
    state = tn.computational_basis_state([1, 0, 1, 1], max_bond=2)
    samples = np.asarray(tn.sample(jax.random.PRNGKey(0), state, 5))
    assert (samples == [1, 0, 1, 1]).all()
