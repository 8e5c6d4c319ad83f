"""Federated configs and partitions: bad input is a ConfigError naming the key; partitions
cover the training split exactly once; a round's bill counts the parameters at b bits."""

from __future__ import annotations

import numpy as np
import pytest

from qtnet.config import ConfigError
from qtnet.federated import (client_partitions, client_round_cost, dirichlet_partition,
                             iid_partition, load_run, run_from_dict)
from qtnet.federated.config import FederatedConfig

LABELS = np.repeat(np.arange(10), 30)


@pytest.mark.parametrize("section, message", [
    ({"federated": {"clients": 0}}, "federated.clients: a federation needs at least 1"),
    ({"federated": {"clients": 3, "min_clients": 4}}, "cannot sample 4 clients per round "
                                                      "out of federated.clients = 3"),
    ({"federated": {"alpha": 0.0}}, "federated.alpha: the Dirichlet concentration must be > 0"),
    ({"federated": {"alpha": -1}}, "federated.alpha"),
    ({"federated": {"fraction": 1.5}}, "federated.fraction: expected a value in (0, 1]"),
    ({"privacy": {"delta": 1.0}}, "privacy.delta: expected a value in (0, 1)"),
    ({"privacy": {"delta": 0}}, "privacy.delta"),
    ({"privacy": {"target_epsilon": -2}}, "privacy.target_epsilon: expected a value > 0"),
    ({"privacy": {"enabled": True}}, "give exactly one of target_epsilon and noise_multiplier"),
    ({"privacy": {"enabled": True, "target_epsilon": 8, "noise_multiplier": 1}},
     "exactly one of"),
    ({"federated": {"strategy": "fedsgd"}}, "federated.strategy: expected one of fedavg"),
    ({"federated": {"rounds": 2, "nonsense": 1}}, "unknown key federated.nonsense"),
    ({"federated": {"strategy": "fedadam", "server_learning_rate": 0}},
     "federated.server_learning_rate: expected a value > 0, got 0"),
    ({"schedule": {"type": "cosine"}}, "schedule.type: 'cosine' is laid out over training.steps"
                                       ", but a federated client starts a fresh optimiser"),
    ({"federated": {"server_schedule": "cosine"}},
     "federated.server_schedule: 'cosine' schedules FedAdam's server step, but "
     "federated.strategy is 'fedavg', which has none"),
    ({"federated": {"strategy": "fedadam", "server_schedule": "step"}},
     "federated.server_schedule: expected one of constant"),
    ({"federated": {"strategy": "fedadam", "server_end_factor": 1.5}},
     "federated.server_end_factor"),
    ({"federated": {"straggler_timeout": 0}},
     "federated.straggler_timeout: expected a value > 0 or null, got 0"),
])
def test_bad_config_is_a_config_error(section, message):
    with pytest.raises(ConfigError) as err:
        run_from_dict(section)
    assert message in str(err.value)


def test_config_file_and_overrides():
    run = load_run("configs/federated/tiny.yaml", ["federated.rounds=5", "privacy.enabled=true",
                                                   "privacy.target_epsilon=8"])
    assert run.federated.rounds == 5 and run.federated.clients == 2
    assert run.privacy.target_epsilon == 8.0 and run.config.model.layers == 1
    assert FederatedConfig(clients=4, fraction=0.5).sampled_per_round == 2
    assert FederatedConfig(clients=4, fraction=0.1, min_clients=3).sampled_per_round == 3


def test_every_federated_config_loads():
    from pathlib import Path

    paths = sorted(Path("configs/federated").glob("*.yaml"))
    assert len(paths) >= 3
    for path in paths:
        load_run(path)


def _check_cover(parts, n):
    joined = np.concatenate(parts)
    assert len(joined) == n and len(np.unique(joined)) == n


def test_iid_partition_covers_once_in_equal_parts():
    parts = iid_partition(len(LABELS), 4, seed=3)
    _check_cover(parts, len(LABELS))
    assert {len(p) for p in parts} == {75}


def _label_skew(parts) -> float:
    """Mean total-variation distance of a client's label histogram from the global one."""
    glob = np.bincount(LABELS, minlength=10) / len(LABELS)
    return float(np.mean([0.5 * np.abs(np.bincount(LABELS[p], minlength=10) / len(p)
                                       - glob).sum() for p in parts]))


def test_dirichlet_partition_covers_once_and_alpha_sets_the_skew():
    skewed = dirichlet_partition(LABELS, 4, alpha=0.1, seed=0)
    even = dirichlet_partition(LABELS, 4, alpha=100.0, seed=0)
    _check_cover(skewed, len(LABELS))
    _check_cover(even, len(LABELS))
    assert _label_skew(skewed) > 0.4 > 0.1 > _label_skew(even)


def test_partition_errors_name_the_problem():
    with pytest.raises(ConfigError, match="more clients than the 300 training examples"):
        iid_partition(300, 301, seed=0)
    with pytest.raises(ConfigError, match="alpha"):
        dirichlet_partition(LABELS, 2, alpha=0.0, seed=0)
    with pytest.raises(ConfigError, match="fewer than training.batch_size = 100"):
        client_partitions(LABELS, FederatedConfig(clients=4), 0, min_size=100)
    with pytest.raises(ConfigError, match="raise alpha"):
        client_partitions(LABELS, FederatedConfig(clients=10, partition="dirichlet",
                                                  alpha=0.01), 0, min_size=25)


def test_round_bill():
    per_step = {"quantum_qubits": 120, "classical_bits": 4096, "flops_forward_alice": 10.0,
                "flops_forward_bob": 5.0, "classical_mps_bits": 1}
    bill = client_round_cost(48, 16, 3, per_step)
    assert bill == {"bits_down": 768, "bits_up": 768, "quantum_qubits": 360,
                    "quantum_classical_bits": 12288, "flops_forward": 45.0}
    assert client_round_cost(48, 32, 3, {}) == {"bits_down": 1536, "bits_up": 1536}


@pytest.mark.parametrize("overrides, message", [
    (["federated.clients=0"], "federated.clients: a federation needs at least 1 client, got 0"),
    (["federated.clients=40", "federated.partition=dirichlet", "federated.alpha=0.01"],
     "federated.alpha = 0.01: in 100 draws some client always got fewer than 8 examples")])
def test_cli_bad_config_exits_2_before_starting_flower(tmp_path, capsys, overrides, message):
    from qtnet.cli import main

    sets = [a for o in overrides for a in ("--set", o)]
    code = main(["federated", "--config", "configs/federated/tiny.yaml", *sets,
                 "--workdir", str(tmp_path / "run")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(f"qtnet federated: error: {message}")
    assert not (tmp_path / "run").exists()


def _stored_run(workdir, overrides=()):
    from qtnet.federated.config import dump_run

    (workdir / "checkpoints" / "1").mkdir(parents=True)
    dump_run(load_run("configs/federated/tiny.yaml", list(overrides)),
             workdir / "federated.yaml")


@pytest.mark.parametrize("override, message", [
    ("federated.clients=3", "federated.clients=2, this config has 3"),
    ("federated.partition=dirichlet", "federated.partition='iid', this config has 'dirichlet'"),
    ("federated.alpha=0.1", "federated.alpha=0.5, this config has 0.1"),
    ("federated.strategy=fedprox", "federated.strategy='fedavg'"),
    ("federated.local_steps=3", "federated.local_steps=2"),
    ("optimizer.learning_rate=0.5", "optimizer.learning_rate"),
    ("training.seed=4", "training.seed=0, this config has 4"),
    ("model.layers=2", "model.layers=1, this config has 2"),
    ("privacy.clip_norm=3", "privacy.clip_norm=1.0"),
])
def test_resume_with_changed_settings_is_refused(tmp_path, override, message):
    from qtnet.federated.config import check_resume

    _stored_run(tmp_path)
    check_resume(tmp_path, load_run("configs/federated/tiny.yaml",
                                    ["federated.rounds=5", "federated.round_timeout=60",
                                     "federated.straggler_timeout=2"]))
    with pytest.raises(ConfigError) as err:
        check_resume(tmp_path, load_run("configs/federated/tiny.yaml", [override]))
    assert f"{tmp_path} holds a federated run with {message}" in str(err.value)
    assert "use another --workdir" in str(err.value)


def test_resume_under_calibrated_dp_keeps_the_rounds(tmp_path):
    from qtnet.federated.config import check_resume

    dp = ["privacy.enabled=true", "privacy.target_epsilon=8"]
    _stored_run(tmp_path, dp)
    with pytest.raises(ConfigError, match="federated.rounds=2, this config has 3.*may change "
                                          r"only federated.round_timeout, federated.straggler_"
                                          r"timeout, federated.accept_failures\)"):
        check_resume(tmp_path, load_run("configs/federated/tiny.yaml",
                                        [*dp, "federated.rounds=3"]))
    check_resume(tmp_path / "elsewhere", load_run("configs/federated/tiny.yaml"))  # no run


def test_resume_under_a_decaying_server_step_keeps_the_rounds(tmp_path):
    # The step of every round depends on federated.rounds: the completed rounds fixed it.
    from qtnet.federated.config import check_resume

    cosine = ["federated.strategy=fedadam", "federated.server_schedule=cosine"]
    _stored_run(tmp_path, cosine)
    with pytest.raises(ConfigError, match="federated.rounds=2, this config has 3"):
        check_resume(tmp_path, load_run("configs/federated/tiny.yaml",
                                        [*cosine, "federated.rounds=3"]))
    check_resume(tmp_path, load_run("configs/federated/tiny.yaml",
                                    [*cosine, "federated.round_timeout=60"]))


def test_cli_refuses_a_changed_resume_with_exit_2(tmp_path, capsys):
    from qtnet.cli import main

    _stored_run(tmp_path)
    code = main(["federated", "--config", "configs/federated/tiny.yaml", "--set",
                 "federated.clients=3", "--workdir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"qtnet federated: error: {tmp_path} holds a federated run with "
                             "federated.clients=2, this config has 3")
    assert not (tmp_path / "flower_logs").exists()      # refused before Flower started


@pytest.mark.parametrize("kind", ["cosine", "linear", "constant"])
def test_server_step_decays_over_rounds_as_the_trainers_schedule_over_steps(kind):
    # The centralised run this federation is compared with decays by schedule.type over its
    # steps (optax's schedules); the server's step must decay the same way over the rounds.
    from qtnet.config import Config, ScheduleConfig
    from qtnet.config.schema import OptimizerConfig, TrainingConfig
    from qtnet.training.optim import learning_rate_schedule

    fed = FederatedConfig(strategy="fedadam", rounds=7, server_learning_rate=0.4,
                          server_schedule=kind, server_end_factor=0.1)
    trainer = Config(optimizer=OptimizerConfig(learning_rate=0.4),
                     schedule=ScheduleConfig(type=kind, end_factor=0.1),
                     training=TrainingConfig(steps=7))
    expected = [float(learning_rate_schedule(trainer)(r - 1)) for r in range(1, 8)]
    steps = [fed.server_step(r) for r in range(1, 8)]
    np.testing.assert_allclose(steps, expected, rtol=1e-6)
    assert steps[0] == 0.4
    if kind != "constant":
        assert all(a > b for a, b in zip(steps, steps[1:])) and steps[-1] > 0.04
