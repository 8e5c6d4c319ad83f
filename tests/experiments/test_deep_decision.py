"""The decision problem at scale (qtnet.experiments.deep_decision): a set's mean logit read as
one overlap equals the mean of its nodes' amplitudes, and the trainer runs the task after a
deep_sign run on grid_deep."""

import itertools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet import tn
from qtnet.config import Config, ConfigError, load
from qtnet.experiments.deep_decision import free_bits, node_sets, sample_from
from qtnet.gnn.deep import amplitudes_at, amplitudes_of
from qtnet.training import Trainer, train

jax.config.update("jax_enable_x64", True)


def test_a_sets_overlap_is_the_sum_of_its_nodes_amplitudes():
    n_node, rest, classes = 6, 2, 3
    state = tn.random_mps(jax.random.PRNGKey(4), n_node + rest, 4, dtype=jnp.float64)
    free = free_bits(n_node, 4, "periodic grid 8 x 8")
    assert free.tolist() == [1, 2, 4, 5]                     # the low 2 bits of each axis
    vectors = node_sets(np.random.default_rng(0), n_node, free, 3)
    got = np.asarray(amplitudes_of(state, vectors, classes))
    for v, row in zip(vectors, got):
        members = np.array([b for b in itertools.product((0, 1), repeat=n_node)
                            if all(v[q, b[q]] == 1 for q in range(n_node))])
        assert len(members) == 16
        want = np.asarray(amplitudes_at(state, members, classes)).sum(0)
        assert np.abs(row - want).max() < 1e-12
        drawn = sample_from(np.random.default_rng(1), v, free, 50)
        assert all(v[q, b[q]] == 1 for b in drawn for q in range(n_node))


SMALL = ["model.type=deep_sign", "model.layers=1", "data.type=grid_deep",
         "data.graph_qubits=6", "data.hops=1", "data.feature_qubits=1",
         "data.sampled_nodes=200", "data.classes=2", "data.max_bond=4", "data.teacher_bond=8",
         "data.teacher_layers=2", "backend.max_bond=4", "backend.dtype=float64",
         "training.batch_size=32", "training.steps=2", "checkpoint.every=2",
         "metering.enabled=false", "decision.evaluate=true", "decision.sets=6",
         "decision.free_qubits=4", "decision.sample=64"]


def test_the_trainer_runs_the_decision_task_after_a_deep_run(tmp_path):
    result = train(load(Config, None, SMALL), tmp_path, echo=lambda *_: None,
                   trainer=Trainer())
    saved = json.loads((tmp_path / "decision.json").read_text())
    assert saved["nodes_per_set"] == 16 and saved["sets"] == 6 and saved["class_pairs"] == 1
    for key in ("decision_accuracy_student", "decision_accuracy_teacher",
                "student_teacher_agreement"):
        assert 0.0 <= saved[key] <= 1.0 and (saved[key] * 6).is_integer()
    assert saved["readout"]["overlaps_per_set"] == 2
    assert result is not None


@pytest.mark.parametrize("overrides, message", [
    (SMALL + ["decision.free_qubits=3"], "even number"),
    (SMALL + ["decision.free_qubits=8"], "cannot leave 8 bits free"),
    (["decision.evaluate=true", "training.steps=2"], "teacher circuit"),    # figure2, digits
])
def test_a_decision_that_cannot_apply_is_refused_before_training(tmp_path, overrides, message):
    config = load(Config, None, overrides)
    with pytest.raises(ConfigError, match=message):
        train(config, tmp_path / "run", echo=lambda *_: None, trainer=Trainer())
    assert not (tmp_path / "run" / "checkpoints").exists()
