"""Graphs built directly as MPOs (periodic grid, Kronecker) and hop states on them: equal to
the dense formulas at small sizes; the grid teacher task through the trainer."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet import tn
from qtnet.config import Config, ConfigError, load
from qtnet.gnn.synthetic import (HopFeatures, grid_propagation_mpo, hop_state,
                                 kronecker_propagation_mpo, node_bits)
from qtnet.data.grid import balancing_offsets
from qtnet.training import read_metrics, train

ROOT = Path(__file__).resolve().parents[2]


def _dense_grid(b):
    side = 2**b
    a = np.zeros((side * side, side * side))
    for x in range(side):
        for y in range(side):
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                a[x * side + y, ((x + dx) % side) * side + (y + dy) % side] = 1
    return (a + np.eye(side * side)) / 5


@pytest.mark.parametrize("b", [2, 3])
def test_grid_mpo_is_the_papers_operator_of_the_periodic_grid(b):
    t = grid_propagation_mpo(b)
    assert t.bond_cap == 9
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(t)), _dense_grid(b), atol=1e-15)


def test_kronecker_mpo_is_the_row_normalised_kronecker_power():
    p = np.array([[0.9, 0.5], [0.5, 0.2]])
    power = np.kron(np.kron(p, p), p)
    np.testing.assert_allclose(np.asarray(tn.mpo_to_dense(kronecker_propagation_mpo(p, 3))),
                               power / power.sum(1, keepdims=True), atol=1e-15)


def test_hop_state_amplitudes_are_the_hop_features():
    with jax.enable_x64(True):
        x = tn.random_mps(jax.random.PRNGKey(0), 4 + 2, 3, dtype=jnp.float64)
        phi = hop_state(grid_propagation_mpo(2), x, 3, max_bond=16)   # full cap, 8 sites
        got = np.asarray(HopFeatures(phi, 4, 2, 4)(np.arange(16)))
        dense_x = np.asarray(tn.to_dense(x)).reshape(16, 4)
    t = _dense_grid(2)
    want = np.stack([np.linalg.matrix_power(t, k) @ dense_x for k in range(4)], 1)
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert float(phi.fidelity_estimate) == pytest.approx(1.0)


def test_node_bits_hold_indices_past_32_bits():
    bits = node_bits([2**40 + 5], 41)
    assert bits.shape == (1, 41) and bits[0, 0] == 1 and list(bits[0, -3:]) == [1, 0, 1]


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="power of two"):
        hop_state(grid_propagation_mpo(2), tn.random_mps(jax.random.PRNGKey(0), 6, 2), 2,
                  max_bond=8)
    with pytest.raises(ValueError, match="at least 2 bits per axis"):
        grid_propagation_mpo(1)
    with pytest.raises(ValueError, match="symmetric non-negative"):
        kronecker_propagation_mpo([[1, 2], [0, 1]], 3)


def test_balancing_offsets_equalise_classes_of_skewed_logits():
    z = np.random.default_rng(0).standard_t(2, size=(4000, 4)) * [0.1, 1, 3, 10] + [5, 0, 0, 0]
    counts = np.bincount(np.argmax(z + balancing_offsets(z), -1), minlength=4)
    assert counts.min() >= 950


def test_grid_teacher_task_learns_through_the_trainer(tmp_path):
    """256 nodes, 4 balanced teacher classes (chance 0.25): 60 steps of a small student take
    the loss from ~ln 4 to well below it and agree with the teacher on most held-out nodes."""
    overrides = ["data.graph_qubits=8", "data.sampled_nodes=200", "training.steps=60",
                 "training.batch_size=64", "model.hidden=16",
                 "training.eval_every=60", "checkpoint.every=60", "data.max_bond=4"]
    config = load(Config, ROOT / "configs" / "grid_2e32.yaml", overrides)
    result = train(config, tmp_path, echo=lambda *_: None, interactive=False)
    info = result.summary["data"]
    assert info["nodes"] == 256 and info["qubits"] == 8 + 2 + 3
    assert info["class_counts"] == [35] * 4
    assert 0.0 < info["hop_state_fidelity"] <= 1.0
    records = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in records if r["split"] == "test"] == [60]
    train_loss = [r["loss"] for r in records if r["split"] == "train"]
    assert train_loss[0] > 1.3 and max(train_loss[-5:]) < 0.8
    # ~30 validation and ~30 test nodes: twice chance on both (0.71 and 0.86 in float64)
    assert result.eval_metrics["accuracy"] >= 0.5
    assert result.summary["final_test"]["accuracy"] >= 0.5
    with pytest.raises(ConfigError, match="even number of qubits"):
        train(load(Config, ROOT / "configs" / "grid_2e32.yaml",
                   overrides + ["data.graph_qubits=9"]), tmp_path / "odd",
              echo=lambda *_: None, interactive=False)
