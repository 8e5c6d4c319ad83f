"""Structured MPO builders equal their dense definitions (float64, small sizes)."""

import numpy as np
import pytest

from qtnet import tn


def test_shift_is_the_cyclic_increment_and_its_transpose_the_decrement():
    s = np.asarray(tn.mpo_to_dense(tn.mpo_shift(3)))
    np.testing.assert_array_equal(s, np.roll(np.eye(8), 1, axis=0))
    np.testing.assert_array_equal(np.asarray(tn.mpo_to_dense(tn.mpo_transpose(tn.mpo_shift(3)))),
                                  np.roll(np.eye(8), -1, axis=0))


def test_kron_of_mpos_is_the_kronecker_product_of_their_matrices():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(2, 2))
    mpo = tn.mpo_kron(tn.mpo_from_dense(a, dtype=np.float64), tn.mpo_shift(2),
                      tn.mpo_from_dense(b, dtype=np.float64))
    want = np.kron(np.kron(a, np.roll(np.eye(4), 1, axis=0)), b)
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(mpo)), want, atol=1e-12)


@pytest.mark.parametrize("control_site", [0, 1])
def test_controlled_mpo_applies_the_target_where_the_control_qubit_is_one(control_site):
    target = tn.mpo_shift(2)
    mpo = tn.mpo_controlled(target, control_site, 2, 1)
    t = np.asarray(tn.mpo_to_dense(target))
    one = np.diag([0.0, 1.0]) if control_site == 0 else np.eye(2)
    one = np.kron(one, np.diag([0.0, 1.0]) if control_site == 1 else np.eye(2))
    want = np.kron(np.kron(t, one) + np.kron(np.eye(4), np.eye(4) - one), np.eye(2))
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(mpo)), want, atol=1e-12)
