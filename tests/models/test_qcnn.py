"""The cluster-Ising data (DMRG ground states, n = 4 and 8) and the QCNN trained on them by
the ordinary trainer: the Hamiltonian's MPO equals its Pauli sum, the ground state and its
string order the exact ones, the QCNN's logits agree on the tree, MPS and dense backends (1e-10;
deeper circuits and gradients: tests/tn/test_ttn.py), and bad input is a clear error."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from qtnet.config import BackendConfig, Config, ConfigError, load
from qtnet.data import load_dataset
from qtnet.data.cluster_ising import (ClusterIsingConfig, cluster_ising_mpo, ground_state,
                                      string_order)
from qtnet.models.qcnn import QCNN, QCNNConfig, build_qcnn, two_qubit_unitary
from qtnet.tn import backends, mps_from_dense, to_dense, with_bond_cap
from qtnet.tn.ttn.convert import mps_batch_as
from qtnet.training import read_metrics, train
from tests.helpers import cluster_ising_matrix, pauli_matrix

SMALL = ["model.type=qcnn", "data.type=cluster_ising", "data.qubits=4", "data.train_points=2",
         "data.test_points=1", "data.bond=16", "backend.type=tree", "backend.dtype=complex128",
         "training.batch_size=2", "training.eval_every=100", "checkpoint.every=100",
         "metering.enabled=false"]


@pytest.fixture(scope="module")
def data():
    return load_dataset(load(Config, None, SMALL).data)


def test_the_hamiltonian_and_its_dmrg_ground_state_are_exact():
    np.testing.assert_allclose(cluster_ising_mpo(5, 0.7, -0.4).to_dense(),
                               cluster_ising_matrix(5, 0.7, -0.4), atol=1e-12)
    state, energy = ground_state(8, 0.9, 0.3, bond=16)
    w, v = np.linalg.eigh(cluster_ising_matrix(8, 0.9, 0.3))
    assert energy == pytest.approx(w[0], abs=1e-8)
    assert abs(np.vdot(v[:, 0], np.asarray(to_dense(state)))) ** 2 == pytest.approx(1, abs=1e-8)
    string = pauli_matrix({2: "Z", 3: "X", 5: "X", 6: "Z"}, 8)      # Z_a X X Z_b, a = 2, b = 6
    assert string_order(state) == pytest.approx(v[:, 0] @ string @ v[:, 0], abs=1e-8)


def test_the_training_line_is_labelled_by_h1_below_1(data):
    assert data.sample_shape == (1,) and data.n_classes == 2 and data.state.n_sites == 4
    h1 = data.info["h1_train"] + data.info["h1_test"]
    labels = np.concatenate([data.y_train, data.y_test])
    np.testing.assert_array_equal(labels, np.asarray(h1) < 1.0)
    one = lambda i: jax.tree.map(lambda a: a[i], data.state)  # noqa: E731
    order = np.asarray([string_order(one(i)) for i in range(len(h1))])[np.argsort(h1)]
    assert order[0] > 0.5 > order[-1] and np.all(np.diff(order) < 0)   # SPT order fades


def test_the_gates_are_unitary():
    u = np.asarray(two_qubit_unitary(jnp.asarray(np.random.default_rng(0).normal(size=(3, 15)))))
    np.testing.assert_allclose(u @ np.conj(np.swapaxes(u, 1, 2)), np.broadcast_to(np.eye(4),
                                                                                  u.shape),
                               atol=1e-12)


def test_qcnn_logits_agree_on_tree_mps_and_dense(data):
    x = jnp.arange(3)[:, None]
    models = {b: build_qcnn(QCNNConfig(), sample_shape=(1,), n_classes=2,
                            backend=BackendConfig(type=b, dtype="complex128"),
                            rngs=nnx.Rngs(params=0), data=data) for b in ("tree", "mps", "dense")}
    logits = {b: np.asarray(nnx.jit(lambda m: m(x)["logits"])(m)) for b, m in models.items()}
    np.testing.assert_allclose(logits["tree"], logits["dense"], atol=1e-10)
    np.testing.assert_allclose(logits["mps"], logits["dense"], atol=1e-10)



# exact n = 8 ground states deep in the SPT phase, the paramagnet and the antiferromagnet
PHASE_POINTS = [(0.3, 0.0), (1.5, 0.0), (0.3, -1.5)]


@pytest.fixture(scope="module")
def phase_states():
    vectors = [np.linalg.eigh(cluster_ising_matrix(8, h1, h2))[1][:, 0]
               for h1, h2 in PHASE_POINTS]
    return vectors, jax.tree.map(lambda *a: jnp.stack(a),
                                 *[with_bond_cap(mps_from_dense(v), 16) for v in vectors])


def test_the_string_order_init_reads_the_string_order_on_tree_mps_and_dense(phase_states):
    vectors, batch = phase_states
    dense = backends.get("dense")
    string = [float(dense.expectation_pauli(dense.encode(v), "Z0 X1 X3 Z4")) for v in vectors]
    assert string[0] > 0.9 and max(abs(string[1]), abs(string[2])) < 0.2
    for name in ("tree", "mps", "dense"):
        states = mps_batch_as(name, batch, max_bond=16, dtype="complex128")
        model = QCNN(states, 8, backend=name, init="string_order", init_scale=0.0,
                     rngs=nnx.Rngs(params=0))
        np.testing.assert_allclose(model.expectation(states), string, atol=1e-10)
        labels = np.argmax(np.asarray(model(jnp.arange(3)[:, None])["logits"]), -1)
        np.testing.assert_array_equal(labels, [1, 0, 0])      # SPT; paramagnet, AFM are not


def test_the_trainer_trains_it_from_a_config(tmp_path):
    result = train(load(Config, None, SMALL + ["training.steps=3"]), tmp_path / "run",
                   echo=lambda *a, **k: None)
    rows = [r for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if r["split"] == "train"]
    assert len(rows) == 3 and all(np.isfinite(r["loss"]) for r in rows)
    assert result.eval_metrics["fidelity"] == pytest.approx(1.0)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="need at least 3 sites, got 2"):
        cluster_ising_mpo(2, 0.5, 0.0)
    with pytest.raises(ConfigError, match="data.qubits.*power of two; got 12"):
        ClusterIsingConfig(qubits=12).validate()
    assert load(Config, None, SMALL + ["model.init=string_order"]).model.init == "string_order"
    with pytest.raises(ConfigError, match="model.init.*string_order"):
        load(Config, None, SMALL + ["model.init=cong"])
    with pytest.raises(ValueError, match="unknown QCNN init 'cong'; valid: random, "):
        QCNN(None, 4, backend="dense", init="cong", rngs=nnx.Rngs(params=0))
    with pytest.raises(ConfigError, match="model.type: qcnn reads quantum states"):
        build_qcnn(QCNNConfig(), sample_shape=(1,), n_classes=2, backend=BackendConfig(),
                   rngs=nnx.Rngs(params=0), data=None)
