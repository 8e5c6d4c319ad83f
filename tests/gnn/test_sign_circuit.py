"""SIGN as a circuit: dense and MPS logits equal the classical model's (float64), truncation
degrades gracefully with a fidelity estimate, and the communication ledger counts copies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp
from flax import nnx

from qtnet.comm import Estimator
from qtnet.data import load_node_dataset
from qtnet.data.features import sign_hops, sign_operator
from qtnet.gnn import SignCircuit, SignWeights
from qtnet.experiments.sign_circuit_eval import classical_logits, evaluate_sign_circuit
from qtnet.models.sign import SIGN


def _model(f, c, hops, hidden, seed=0, activation="poly"):
    m = SIGN(f, c, hops=hops, hidden=hidden, activation=activation, rngs=nnx.Rngs(params=seed))
    rng = np.random.default_rng(seed)
    m.b[...] = jnp.asarray(0.3 * rng.normal(size=m.b.shape), m.b.dtype)   # nonzero biases
    return m


def _small(n=6, f=3, hops=1, hidden=3, c=2, seed=0):
    rng = np.random.default_rng(seed)
    a = sp.random(n, n, 0.5, random_state=seed)
    a = ((a + a.T) > 0).astype(float)
    t = sign_operator(a)
    x = rng.random((n, f))
    feats = np.stack([np.linalg.matrix_power(t.toarray(), k) @ x for k in range(hops + 1)], 1)
    return t, x, feats, _model(f, c, hops, hidden, seed)


@pytest.fixture(scope="module")
def small():
    with jax.enable_x64(True):
        t, x, feats, model = _small()
        weights = SignWeights.from_model(model)
        return SignCircuit(t, x, weights), classical_logits(feats, weights), model, feats


def test_classical_reference_is_the_flax_model(small):
    _, ref, model, feats = small
    flax = np.asarray(model(jnp.asarray(feats, jnp.float32))["logits"])
    np.testing.assert_allclose(ref, flax, rtol=1e-4, atol=1e-5)


def test_dense_and_exact_mps_logits_equal_the_classical_model(small):
    circuit, ref, _, _ = small
    scale = np.abs(ref).max()
    with jax.enable_x64(True):
        dense = np.asarray(circuit.logits("dense"))
        mps = np.asarray(circuit.logits("mps"))
    assert np.abs(dense - ref).max() / scale < 1e-10
    assert np.abs(mps - ref).max() / scale < 1e-10


def test_mpo_form_runs_on_the_dense_backend_too(small):
    """The MPO form asks the backend for every operation, so it runs on any registered
    backend: on dense it equals the hand-written sparse form."""
    circuit, _, _, _ = small
    with jax.enable_x64(True):
        out, fidelity = circuit.output_network("dense")
        np.testing.assert_allclose(np.asarray(out), np.asarray(circuit.output_dense()),
                                   atol=1e-12)
    assert float(fidelity) == 1.0


def test_bond_cap_reports_fidelity_below_one_and_converges(small):
    circuit, ref, _, _ = small
    errors, fidelities = [], []
    with jax.enable_x64(True):
        for chi in (1, 8):           # 8 = the full cap for these 6 qubits
            out, fid = circuit.output_mps(chi)
            logits = np.asarray(out[:6, :2]) + circuit.weights.b_out
            errors.append(np.abs(logits - ref).max())
            fidelities.append(float(fid))
    assert fidelities[0] < 1.0 and fidelities[-1] == pytest.approx(1.0, abs=1e-9)
    assert errors[-1] < 1e-9 < errors[0]


def test_decision_means_are_one_overlap_equal_to_mean_logits(small):
    circuit, ref, _, _ = small
    nodes = np.array([0, 2, 3])
    with jax.enable_x64(True):
        means = np.asarray(circuit.decision_means(nodes))
    np.testing.assert_allclose(means, ref[nodes].mean(0), rtol=1e-10)


def test_comm_ledger_one_handoff_two_copies_and_union_bound(small):
    circuit, _, _, _ = small
    one = circuit.comm_report(Estimator(0.1, 0.05), "nodes")
    many = circuit.comm_report(Estimator(0.1, 0.05), "nodes", n_estimates=12)
    (row,) = one.rows
    assert (row["from"], row["to"], row["qubits_per_copy"]) == ("alice", "bob",
                                                                circuit.layout.n_qubits)
    # 12 estimates each with delta / 12: more than 12x the copies of one estimate
    assert many.rows[0]["copies"] > 12 * row["copies"]
    assert circuit.protocol().handoffs()[0].copies_factor == 2      # the Hadamard product


def test_comm_report_beyond_int64_still_writes_its_plot(small, tmp_path):
    circuit, _, _, _ = small
    report = circuit.comm_report(Estimator(1e-6, 0.05), "nodes", n_estimates=10**9)
    assert report.rows[0]["quantum_qubits"] > 2**63                 # exact Python int
    assert report.plot(tmp_path / "big.png").stat().st_size > 0
    assert report.to_json(tmp_path / "big.json")


def test_errors_name_the_problem():
    t, x, _, model = _small()
    prelu = _model(3, 2, 1, 3, activation="prelu")
    with pytest.raises(ValueError, match="PReLU is not a polynomial"):
        SignWeights.from_model(prelu)
    with pytest.raises(ValueError, match="expect 3 features"):
        SignCircuit(t, x[:, :2], SignWeights.from_model(model))
    with pytest.raises(ValueError, match="does not match"):
        SignCircuit(t[:5, :5], x, SignWeights.from_model(model))
    with pytest.raises(ValueError, match="unknown backend"):
        SignCircuit(t, x, SignWeights.from_model(model)).logits("gpu")


def test_cora_subgraph_dense_circuit_matches_classical(tmp_path):
    """A real graph (Cora's first 300 nodes, all 1433 features): 9 + 1 + 11 qubits."""
    cora = load_node_dataset("cora")
    keep = np.arange(300)
    from qtnet.data.types import NodeDataset

    sub = NodeDataset("cora300", cora.features[keep], cora.labels[keep],
                      cora.adjacency[keep][:, keep], keep[:40], keep[40:100], keep[100:])
    feats = sign_hops(sub, 1, dtype=np.float64)
    model = _model(feats.shape[2], sub.n_classes, 1, 8)
    result = evaluate_sign_circuit(model, sub, feats, out_dir=tmp_path)
    assert result["max_relative_difference"] < 1e-6
    assert result["test_accuracy_circuit"] == result["test_accuracy_classical"]
    assert result["decision_accuracy_circuit"] == result["decision_accuracy_classical"]
    assert result["registers"] == {"node": 9, "hop": 1, "feat": 11}
    nodes, decision = result["comm"]["nodes"], result["comm"]["decision"]
    assert nodes["quantum_qubits"] > decision["quantum_qubits"]    # 200 x 7 vs 7 estimates
    for name in ("circuit.json", "comm_nodes.csv", "comm_decision.png", "logits.png"):
        assert (tmp_path / name).is_file()


def test_graph_model_as_a_circuit_pools_by_one_overlap():
    """A trained-mode SIGN graph model (batch norm with moved running statistics) on a
    MUTAG graph: circuit logits = the model's, dense and MPS; LayerNorm is refused."""
    from qtnet.data import load_graph_dataset
    from qtnet.data.features import GraphHops, graph_hop_features
    from qtnet.gnn.graph_circuit import graph_circuit_logits
    from qtnet.models.sign_graph import SIGNGraph

    data = load_graph_dataset("MUTAG")
    x, graph_of_node = graph_hop_features(data, GraphHops(gcn=1), dtype=np.float64)
    model = SIGNGraph(x.shape[1], 2, hidden=3, norm="batch", rngs=nnx.Rngs(params=0))
    rng = np.random.default_rng(0)
    model.norm.mean[...] = jnp.asarray(rng.normal(size=3), jnp.float32)
    model.norm.var[...] = jnp.asarray(rng.uniform(0.5, 2, size=3), jnp.float32)
    nodes = graph_of_node == 0
    with jax.enable_x64(True):
        want = np.asarray(model(jnp.asarray(x[nodes]), jnp.zeros(nodes.sum(), int),
                                jnp.ones(nodes.sum(), bool), 1))[0]
        dense = graph_circuit_logits(model, x[nodes])
    np.testing.assert_allclose(dense, want, rtol=1e-5)         # the model runs in float32
    small = x[nodes][:6, :3]                                   # MPS: 3 + 1 + 2 qubits
    tiny = SIGNGraph(3, 2, hidden=3, norm="none", rngs=nnx.Rngs(params=1))
    with jax.enable_x64(True):
        np.testing.assert_allclose(graph_circuit_logits(tiny, small, "mps"),
                                   graph_circuit_logits(tiny, small), rtol=1e-9)
    layer = SIGNGraph(x.shape[1], 2, hidden=3, norm="layer", rngs=nnx.Rngs(params=0))
    with pytest.raises(ValueError, match="LayerNorm is not a polynomial"):
        graph_circuit_logits(layer, x[nodes])


def test_network_form_refuses_an_operator_above_the_dense_limit():
    """5000 nodes: select-T on node ⊗ hop is 14 qubits, a 2 GiB dense matrix; refused before
    anything is built, naming the registers and the way out."""
    n = 5000
    model = _model(3, 2, 1, 3)
    circuit = SignCircuit(sp.identity(n, format="csr"), np.ones((n, 3)),
                          SignWeights.from_model(model))
    with pytest.raises(ValueError, match=r"node ⊗ hop \(14 qubits\) .*\(2 GiB\).* limit is 12 "
                                         r"qubits .* Use backend='dense'"):
        circuit.logits("mps", max_bond=16)
