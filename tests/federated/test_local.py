"""A client's local round, in process (the Flower apps call exactly this): the update moves
the parameters, FedProx pulls them back, DP-SGD spends the calibrated budget by the last round."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet.federated import load_run
from qtnet.federated.local import (LocalTrainer, arrays_to_params, params_to_arrays,
                                   proximal_term)

TINY = "configs/federated/tiny.yaml"


@pytest.fixture(scope="module")
def plain():
    return LocalTrainer.build(load_run(TINY), 1)


def test_a_round_moves_the_parameters_and_round_trips_the_wire(plain):
    start = plain.setup.state.params
    new, metrics = plain.train_round(start, server_round=1)
    assert np.isfinite(metrics["loss"]) and "epsilon" not in metrics
    arrays = params_to_arrays(new)
    assert sum(a.size for a in arrays) == sum(a.size for a in params_to_arrays(start))
    assert any(not np.allclose(a, b) for a, b in zip(arrays, params_to_arrays(start)))
    back = arrays_to_params(start, arrays)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(back),
                                                   jax.tree.leaves(new)))
    with pytest.raises(ValueError, match="expected 2 parameter arrays, got 1"):
        arrays_to_params(start, arrays[:1])


def test_later_rounds_reuse_the_compiled_step(plain):
    params, _ = plain.train_round(plain.setup.state.params, server_round=1)
    step = plain._steps[0.0]
    _, metrics = plain.train_round(params, server_round=2)
    assert plain._steps == {0.0: step}
    assert metrics["first_step_seconds"] >= 0 and metrics["other_steps_seconds"] >= 0


def test_clients_hold_disjoint_partitions(plain):
    other = LocalTrainer.build(load_run(TINY), 0)
    assert not set(other.indices) & set(plain.indices)
    with pytest.raises(ValueError, match="client 2 does not exist"):
        LocalTrainer.build(load_run(TINY), 2)


def test_proximal_term_adds_mu_times_the_drift():
    anchor = {"w": jnp.array([1.0, 2.0])}
    tx = proximal_term(0.5)
    state = tx.init(anchor)
    updates, _ = tx.update({"w": jnp.array([0.1, 0.1])}, state, {"w": jnp.array([3.0, 0.0])})
    np.testing.assert_allclose(updates["w"], [0.1 + 0.5 * 2.0, 0.1 - 0.5 * 2.0])


def test_dp_client_spends_the_target_epsilon_by_the_last_round():
    run = load_run(TINY, ["privacy.enabled=true", "privacy.target_epsilon=8",
                          "privacy.delta=1e-5", "privacy.clip_norm=0.5"])
    local = LocalTrainer.build(run, 0)
    assert local.noise_multiplier > 0
    _, first = local.train_round(local.setup.state.params, server_round=1)
    assert 0 < first["epsilon"] < 8.0
    assert local.epsilon_after(run.federated.rounds) == pytest.approx(8.0, rel=1e-3)
