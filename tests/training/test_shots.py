"""Finite-shot training (estimator.shots): with many shots its gradient is the exact one;
a run with few shots trains, reports the copies it used and resumes like any other."""

from pathlib import Path

import jax
import numpy as np
import pytest

from qtnet.config import Config, ConfigError, load
from qtnet.training import read_metrics
from qtnet.training.cli import train_main
from qtnet.training.setup import build_setup
from qtnet.training.shots import shot_cross_entropy
from qtnet.training.steps import cross_entropy

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "tiny.yaml")
SMALL = ["model.layers=1", "model.depth=1", "backend.type=dense", "backend.dtype=float64",
         "training.batch_size=2", "metering.enabled=false"]


def test_many_shots_give_the_exact_gradient():
    setup = build_setup(load(Config, TINY, SMALL + ["estimator.shots=1"]))
    batch = setup.batch(0)
    key = jax.random.PRNGKey(0)
    exact, metrics = cross_entropy(setup.graphdef, setup.state.params, batch, key)
    shots = 200_000
    grads, shot_metrics = jax.jit(lambda p, k: shot_cross_entropy(shots)(
        setup.graphdef, p, batch, k))(setup.state.params, key)
    for name in exact:
        # each component: a difference of two frequencies of 2e5 shots, times |dL/dp| <~ 10
        np.testing.assert_allclose(np.asarray(grads[name]), np.asarray(exact[name]),
                                   atol=0.02)
    assert float(shot_metrics["loss"]) == pytest.approx(float(metrics["loss"]), abs=0.02)
    n_params = sum(int(np.size(v)) for v in jax.tree.leaves(setup.state.params))
    assert float(shot_metrics["shots"]) == 2 * (1 + 2 * n_params) * shots


def test_shot_training_runs_and_meters_its_copies(tmp_path, capsys):
    workdir = tmp_path / "run"
    args = ["--config", TINY, "--workdir", str(workdir), "--set", "estimator.shots=32"]
    for item in SMALL + ["training.steps=2", "training.eval_every=2", "checkpoint.every=2"]:
        args += ["--set", item]
    assert train_main(args) == 0
    train = [r for r in read_metrics(workdir / "metrics.jsonl") if r["split"] == "train"]
    assert [r["step"] for r in train] == [1, 2]
    assert all(r["shots"] > 0 and np.isfinite(r["loss"]) for r in train)


def test_shot_training_refuses_models_without_a_shift_rule():
    with pytest.raises(ConfigError, match="estimator.shots: .* model.type mlp has none"):
        build_setup(load(Config, TINY, ["model.type=mlp", "estimator.shots=8"]))
    with pytest.raises(ConfigError, match="model.ansatz is su4"):
        build_setup(load(Config, TINY, ["model.ansatz=su4", "backend.dtype=complex64",
                                        "estimator.shots=8"]))
