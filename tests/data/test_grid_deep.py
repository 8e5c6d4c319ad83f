"""The deep-circuit grid task (data.type: grid_deep) trained by the ordinary trainer with
model.type: deep_sign: node bit strings as samples, the student's hop state handed over as
Dataset.state, the loss falls, a resumed run is exact, and bad input is a ConfigError (exit 2
from the command line, nothing left in the run folder)."""

from pathlib import Path

import numpy as np
import pytest

from qtnet.comm.deep_ledger import deep_sign_ledger
from qtnet.config import Config, ConfigError, load
from qtnet.data import load_dataset
from qtnet.training import Checkpoints, Trainer, read_metrics, train
from qtnet.training.cli import train_main

SMALL = ["model.type=deep_sign", "model.layers=1", "data.type=grid_deep",
         "data.graph_qubits=6", "data.hops=1", "data.feature_qubits=1",
         "data.sampled_nodes=200", "data.classes=2", "data.max_bond=4", "data.teacher_bond=8",
         "data.teacher_layers=2", "backend.max_bond=4", "backend.dtype=float64",
         "optimizer.learning_rate=0.05", "training.batch_size=32", "training.eval_every=100",
         "checkpoint.every=4"]


def _quiet(*_args, **_kw):
    pass


def test_the_dataset_hands_over_a_compressed_hop_state_and_balanced_teacher_labels():
    data = load_dataset(load(Config, None, SMALL).data)
    assert data.sample_shape == (6,) and data.x_train.dtype == np.int32
    assert set(np.unique(data.x_train)) <= {0, 1}
    assert data.state.n_sites == 6 + 1 + 1 and data.state.bond_cap == 4
    assert data.info["hop_state_fidelity"] < 1.0          # the student's Φ is truncated
    counts = data.info["class_counts"]
    assert min(counts) > 0.3 * sum(counts) / len(counts)


def test_a_kronecker_graph_of_odd_size_builds_its_hop_state_from_the_initiator():
    data = load_dataset(load(Config, None, SMALL + ["data.graph=kronecker",
                                                    "data.graph_qubits=5"]).data)
    assert data.sample_shape == (5,) and data.state.n_sites == 5 + 1 + 1
    assert data.info["graph"].startswith("Kronecker graph, initiator [[0.9, 0.5], [0.5, 0.1]]")
    assert min(data.info["class_counts"]) > 0


def test_training_lowers_the_loss_and_a_resumed_run_is_exact(tmp_path):
    trainer = Trainer()
    straight = train(load(Config, None, SMALL + ["training.steps=8"]), tmp_path / "a",
                     echo=_quiet, trainer=trainer)
    train(load(Config, None, SMALL + ["training.steps=4"]), tmp_path / "b", echo=_quiet,
          trainer=trainer)
    resumed = train(load(Config, None, SMALL + ["training.steps=8"]), tmp_path / "b",
                    echo=_quiet, trainer=trainer)
    a = [r for r in read_metrics(tmp_path / "a" / "metrics.jsonl") if r["split"] == "train"]
    b = [r for r in read_metrics(tmp_path / "b" / "metrics.jsonl") if r["split"] == "train"]
    assert [r["loss"] for r in a] == pytest.approx([r["loss"] for r in b], rel=1e-12)
    assert straight.eval_metrics["loss"] == pytest.approx(resumed.eval_metrics["loss"])
    assert np.mean([r["loss"] for r in a[-3:]]) < np.mean([r["loss"] for r in a[:3]])
    assert all(0 < r["fidelity"] < 1 for r in a)            # truncating: a real estimate
    # metered: Bob's forward FLOPs per step (the ledger's), cumulative, and Φ's hand-off
    records = deep_sign_ledger(n_sites=8, layers=1, weight_bond=4, max_bond=4, batch=32,
                               n_classes=2)
    per_step = sum(r.flops for r in records if r.party == "Bob")
    assert [r["comm_flops_forward_Bob"] for r in a] == [k * per_step for k in range(1, 9)]
    assert a[0]["comm_classical_mps_bits"] < a[0]["comm_classical_bits"]


@pytest.mark.parametrize("override, message", [
    ("model.layers=0", "model.layers"),
    ("backend.max_bond=0", "backend.max_bond"),
    ("data.graph_qubits=2", "data.graph_qubits"),
    ("data.teacher_bond=2", "data.teacher_bond"),
    ("backend.max_bond=16", "exceeds the teacher's"),
    ("data.graph_qubits=7", "even number"),                       # a grid is square
    ("data.graph=ring", "data.graph"),
    ("data.graph=kronecker data.initiator_11=0 data.initiator_12=0", "initiator"),
])
def test_bad_input_is_a_config_error(override, message):
    with pytest.raises(ConfigError, match=message):
        load(Config, None, SMALL + override.split()).validate()


def test_a_model_without_a_hop_state_exits_2_and_leaves_no_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["--workdir", str(run), "--set", "model.type=deep_sign", "--set",
            "backend.max_bond=4", "--set", "data.type=digits"]
    assert train_main(["--config", str(Path(__file__).parents[2] / "configs" / "tiny.yaml"),
                       *argv]) == 2
    assert "grid_deep" in capsys.readouterr().err
    assert not (run / "checkpoints").exists() or not Checkpoints(
        run / "checkpoints", load(Config, None).checkpoint).steps()
