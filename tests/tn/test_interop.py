"""quimb round trips for MPS and MPO."""

import jax
import numpy as np
import pytest

import qtnet.tn as tn
from qtnet.tn.interop import from_quimb, to_quimb


def test_mps_round_trip_through_quimb():
    state = tn.scale(tn.random_mps(jax.random.PRNGKey(0), 6, 3, max_bond=5), 2.5)
    q = to_quimb(state)
    np.testing.assert_allclose(np.asarray(q.to_dense()).ravel(), np.asarray(tn.to_dense(state)),
                               atol=1e-12)
    back = from_quimb(q)
    np.testing.assert_allclose(np.asarray(tn.to_dense(back)), np.asarray(tn.to_dense(state)),
                               atol=1e-12)


def test_quimb_random_state_and_mpo_import():
    import quimb.tensor as qtn

    qm = qtn.MPS_rand_state(7, 4, dtype=complex, seed=1)
    np.testing.assert_allclose(np.asarray(tn.to_dense(from_quimb(qm))),
                               np.asarray(qm.to_dense()).ravel(), atol=1e-12)
    op = qtn.MPO_rand_herm(5, 3, seed=2)
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(from_quimb(op))),
                               np.asarray(op.to_dense()), atol=1e-12)


def test_mpo_round_trip_through_quimb():
    m = tn.mpo_pauli([(0.5, "X0 Z3"), (1.0, "Y2")], 6)
    q = to_quimb(m)
    np.testing.assert_allclose(np.asarray(q.to_dense()), np.asarray(tn.mpo_to_dense(m)),
                               atol=1e-14)
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(from_quimb(q))),
                               np.asarray(tn.mpo_to_dense(m)), atol=1e-14)


def test_interop_rejects_other_objects():
    with pytest.raises(ValueError, match="MPS or MPO"):
        to_quimb(np.zeros(4))
    with pytest.raises(ValueError, match="MatrixProductState"):
        from_quimb(np.zeros(4))
