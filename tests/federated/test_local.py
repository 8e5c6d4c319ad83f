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
    step = plain.steps[0.0]
    _, metrics = plain.train_round(params, server_round=2)
    assert plain.steps == {0.0: step}
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


def test_the_in_process_simulation_aggregates_by_flowers_fedadam_rule(plain):
    pytest.importorskip("flwr", reason="the federated extra (flwr) is not installed")
    from qtnet.federated.simulation import simulate

    run = load_run(TINY, ["federated.rounds=1", "federated.strategy=fedadam",
                          "federated.server_learning_rate=0.2", "federated.server_tau=1e-6",
                          "data.val_fraction=0.2", "federated.partition=dirichlet"])
    # The clients' model and optimiser are plain's: they share its compiled step.
    clients = [LocalTrainer.build(run, i, steps=plain.steps) for i in range(2)]
    accuracy, params = simulate(run, clients=clients)
    assert [len(accuracy[s]) for s in ("test", "val")] == [1, 1]
    assert list(plain.steps) == [0.0]
    start = clients[0].setup.state.params
    weights = np.array([len(c.indices) for c in clients], float)
    assert weights[0] != weights[1]                    # the mean is weighted by examples
    updates = [params_to_arrays(c.train_round(start, 1)[0]) for c in clients]
    for k, x in enumerate(params_to_arrays(start)):
        delta = sum(w * u[k] for w, u in zip(weights / weights.sum(), updates)) - x
        m, v = 0.1 * delta, 0.01 * delta ** 2          # Adam's moments, betas 0.9, 0.99
        step = 0.2 * np.sqrt(1 - 0.99 ** 2) / (1 - 0.9 ** 2)
        np.testing.assert_allclose(params_to_arrays(params)[k],
                                   x + step * m / (np.sqrt(v) + 1e-6), atol=1e-6)
