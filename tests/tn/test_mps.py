"""MPS construction, canonical form, norms and validation."""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qtnet.tn as tn
from tests.helpers import random_state


@given(n=st.sampled_from([1, 3, 6]), seed=st.integers(0, 10**6), scale=st.floats(1e-3, 1e3))
def test_from_dense_round_trip_and_canonical_form(n, seed, scale):
    rng = np.random.default_rng(seed)
    psi = random_state(n, rng) * scale
    state = tn.mps_from_dense(psi)
    np.testing.assert_allclose(np.asarray(tn.to_dense(state)), psi, atol=1e-10 * scale)
    assert float(state.log_norm) == pytest.approx(np.log(scale), abs=1e-10)
    b = np.asarray(state.tensors)
    for i in range(n):                                   # right-orthonormal sites
        m = b[i].reshape(b.shape[1], -1)
        gram = m @ m.conj().T
        used = int(np.asarray(state.bond_dims())[i]) if i else 1
        np.testing.assert_allclose(gram[:used, :used], np.eye(used), atol=1e-10)
    for bond in range(1, n):                             # Schmidt values match a dense SVD
        s_ref = np.linalg.svd(psi.reshape(2**bond, -1) / scale, compute_uv=False)
        s = np.asarray(state.schmidt[bond])
        np.testing.assert_allclose(s[:len(s_ref)], s_ref[:len(s)], atol=1e-10)


def test_from_dense_truncation_reports_fidelity(rng):
    psi = random_state(8, rng)
    state = tn.mps_from_dense(psi, max_bond=4)
    approx = np.asarray(tn.to_dense(state))
    true_fid = abs(np.vdot(psi, approx)) ** 2 / np.vdot(approx, approx).real
    assert state.bond_cap == 4
    assert 0.2 < float(state.fidelity_estimate) < 1
    # Sequential SVDs from the dense vector project it (nested orthogonal projectors P): the
    # true fidelity ||P psi||^2 is exactly the product of the kept fractions reported.
    assert float(state.fidelity_estimate) == pytest.approx(true_fid, rel=1e-9)


def test_compress_of_one_bond_is_the_optimal_low_rank_state(rng):
    """Four qubits at max_bond=2: only the middle bond (rank 4) is cut, so the result is the
    best rank-2 approximation (Eckart-Young): the top two Schmidt pairs of a dense SVD, the
    discarded weight their tail, the fidelity estimate exactly the kept weight."""
    psi = random_state(4, rng)
    u, s, vh = np.linalg.svd(psi.reshape(4, 4))
    best = (u[:, :2] * s[:2]) @ vh[:2]
    small, discarded = tn.compress(tn.mps_from_dense(psi), max_bond=2)
    got = np.asarray(tn.to_dense(small)).reshape(4, 4)
    np.testing.assert_allclose(got / np.linalg.norm(got), best / np.linalg.norm(best),
                               atol=1e-10)
    assert float(discarded) == pytest.approx(np.sum(s[2:] ** 2), abs=1e-12)
    assert float(small.fidelity_estimate) == pytest.approx(np.sum(s[:2] ** 2), abs=1e-12)
    np.testing.assert_allclose(np.asarray(small.schmidt[2])[:2], s[:2] / np.linalg.norm(s[:2]),
                               atol=1e-10)


def test_product_state_labels_and_huge_norm():
    state = tn.product_state("0+1-")
    vec = np.asarray(tn.to_dense(state))
    plus, minus = np.array([1, 1]) / np.sqrt(2), np.array([1, -1]) / np.sqrt(2)
    ref = np.kron(np.kron(np.kron([1, 0], plus), [0, 1]), minus)
    np.testing.assert_allclose(vec, ref, atol=1e-14)
    # 2^40 amplitudes of 1 each: the norm 2^20 lives in log_norm, tensors stay O(1).
    big = tn.product_state(np.ones((40, 2)))
    assert float(big.log_norm) == pytest.approx(20 * np.log(2))
    assert float(tn.norm(big)) == pytest.approx(2.0**20)
    tiny = tn.product_state(np.full((400, 2), 1e-3))
    assert np.isfinite(float(tiny.log_norm))
    assert float(tiny.log_norm) == pytest.approx(400 * np.log(np.sqrt(2) * 1e-3))
    # <tiny|tiny> = e^-5389 underflows float64; its log does not.
    log_ov = complex(tn.log_overlap(tiny, tiny))
    assert log_ov.real == pytest.approx(2 * float(tiny.log_norm)) and abs(log_ov.imag) < 1e-12


def test_scale_keeps_phase_and_norm(rng):
    state = tn.mps_from_dense(random_state(4, rng))
    scaled = tn.scale(state, -2.5j)
    np.testing.assert_allclose(np.asarray(tn.to_dense(scaled)),
                               -2.5j * np.asarray(tn.to_dense(state)), atol=1e-12)


def test_random_mps_is_normalised_and_canonical():
    state = tn.random_mps(jax.random.PRNGKey(0), 7, 3, max_bond=5)
    assert float(tn.norm(state)) == pytest.approx(1.0, abs=1e-12)
    assert state.max_bond_used() == 3


@pytest.mark.parametrize("psi, match", [
    (np.ones(6), "not a power of 2"),
    (np.array([1.0, np.nan, 0, 0]), "NaN/inf"),
    (np.zeros(4), "zero norm"),
])
def test_from_dense_rejects_bad_input(psi, match):
    with pytest.raises(ValueError, match=match):
        tn.mps_from_dense(psi)


def test_pad_to_power_is_explicit():
    assert tn.pad_to_power(np.ones(5)).shape == (8,)
    state = tn.mps_from_dense(tn.pad_to_power(np.arange(1.0, 6.0)))
    assert state.n_sites == 3


def test_product_state_rejects_bad_labels_and_shapes():
    with pytest.raises(ValueError, match="0 1 \\+ -"):
        tn.product_state("01x")
    with pytest.raises(ValueError, match="n_sites, d"):
        tn.product_state(np.ones(4))


def test_to_dense_refuses_huge_states():
    with pytest.raises(ValueError, match="limit is 26"):
        tn.to_dense(tn.product_state("0" * 30))


def test_compress_keeps_exactly_the_bond_it_is_given(rng):
    """A bond-2 state held at a larger cap comes back exactly at max_bond=2 (a compression
    keeping bond 1 loses it); a generic state keeps bond 2 on every inner bond and its true
    fidelity is the one reported, above the bound 1 - sum of discarded weights."""
    small_state = tn.random_mps(jax.random.PRNGKey(1), 6, 2, dtype=np.complex128)
    psi = np.asarray(tn.to_dense(small_state))
    wide = tn.mps_from_dense(psi)
    assert wide.bond_cap == 8
    kept, discarded = tn.compress(wide, max_bond=2)
    np.testing.assert_allclose(np.asarray(tn.to_dense(kept)), psi, atol=1e-10)
    assert float(discarded) < 1e-20 and float(kept.fidelity_estimate) == pytest.approx(1.0)
    assert list(np.asarray(kept.bond_dims())[1:6]) == [2] * 5

    generic = random_state(6, rng)
    kept, discarded = tn.compress(tn.mps_from_dense(generic), max_bond=2)
    approx = np.asarray(tn.to_dense(kept))
    true_fid = abs(np.vdot(generic, approx)) ** 2 / np.vdot(approx, approx).real
    assert list(np.asarray(kept.bond_dims())[1:6]) == [2] * 5
    assert true_fid >= 1 - float(discarded) - 1e-9
    assert float(kept.fidelity_estimate) == pytest.approx(true_fid, rel=0.05)
    one, _ = tn.compress(tn.mps_from_dense(generic), max_bond=1)
    one_dense = np.asarray(tn.to_dense(one))
    assert true_fid > abs(np.vdot(generic, one_dense)) ** 2 / np.vdot(one_dense, one_dense).real
