"""The paper's SIGN tasks: graph diffusion features, the graph model, the Table 2 protocol
on bundled MUTAG, the Table 1 node protocol, and the Cora node task through the trainer with
its circuit evaluation."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.sparse as sp
from flax import nnx

from qtnet.config import Config, ConfigError, load
from qtnet.data import Graph, GraphDataset, load_graph_dataset
from qtnet.data.features import GraphHops, graph_hop_features, sign_hops
from qtnet.data.types import NodeDataset
from qtnet.experiments.sign_node import SignNodeSettings, run_sign_node, train_sign_node
from qtnet.models.sign import SIGN
from qtnet.models.sign_graph import SIGNGraph
from qtnet.training import read_metrics, train
from qtnet.experiments.sign_graph import (batch_arrays, cross_validate, load_settings,
                                          make_model, pack)

ROOT = Path(__file__).resolve().parents[2]


def _two_graphs():
    path = Graph(np.array([[0, 1], [1, 2]]), np.array([0, 1, 0]), 0)
    edge = Graph(np.array([[0, 1]]), np.array([1, 1]), 1)
    return GraphDataset("toy", (path, edge), n_tags=2)


def test_graph_hop_features_match_the_dense_formulas():
    x, graph_of_node = graph_hop_features(_two_graphs(), GraphHops(gcn=2, ppr=1, raw=1, rw=1),
                                          dtype=np.float64)
    assert x.shape == (5, 6 * 2) and list(graph_of_node) == [0, 0, 0, 1, 1]
    a = np.zeros((5, 5))
    a[0, 1] = a[1, 0] = a[1, 2] = a[2, 1] = a[3, 4] = a[4, 3] = 1
    a += np.eye(5)
    d = a.sum(1)
    gcn = a / np.sqrt(d)[:, None] / np.sqrt(d)[None, :]
    x0 = np.eye(2)[[0, 1, 0, 1, 1]]
    want = [x0, a @ x0, (a / d[:, None]) @ x0, gcn @ x0, gcn @ gcn @ x0,
            0.8 * gcn @ x0 + 0.2 * x0]
    np.testing.assert_allclose(x, np.concatenate(want, 1), atol=1e-12)


def test_degree_features_one_hot_the_degree():
    x, _ = graph_hop_features(_two_graphs(), GraphHops(), degree_features=True)
    np.testing.assert_array_equal(x.argmax(1), [1, 2, 1, 1, 1])


def test_graph_model_pools_by_sum_and_ignores_padding():
    model = SIGNGraph(4, 3, hidden=5, norm="batch", rngs=nnx.Rngs(params=0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(6, 4)), jnp.float32)
    graph = jnp.array([0, 0, 1, 1, 1, 0])
    mask = jnp.array([True] * 5 + [False])
    logits = model(x, graph, mask, 2)                       # evaluation: running statistics
    h = model.node_features(x, mask, train=False)
    np.testing.assert_allclose(logits, model.out(jnp.stack([h[:2].sum(0), h[2:5].sum(0)])),
                               rtol=1e-5)
    padded = model(x.at[5].set(100.0), graph, mask, 2)
    np.testing.assert_allclose(padded, logits, rtol=1e-6)
    with pytest.raises(ValueError, match="norm must be one of"):
        SIGNGraph(4, 3, hidden=5, norm="group", rngs=nnx.Rngs(params=0))


def test_batch_arrays_pack_whole_graphs():
    packed = pack(_two_graphs(), GraphHops(gcn=1), False)
    nodes, segment, mask = batch_arrays(packed, np.array([[1, 0], [0, -1]]), n_nodes=6)
    assert list(nodes[0][:5]) == [3, 4, 0, 1, 2] and list(segment[0][:5]) == [0, 0, 1, 1, 1]
    assert mask[1].sum() == 3 and nodes[1][3] == packed.pad_row


def test_mutag_cross_validation_runs_the_paper_protocol():
    data = load_graph_dataset("MUTAG")                      # bundled
    settings = load_settings(ROOT / "configs" / "tu" / "MUTAG.yaml", ["epochs=30"])
    assert (settings.hidden, settings.hops.rw, settings.batch_size) == (64, 8, 128)
    r = cross_validate(data, settings, folds=[0])
    assert r["curves"].shape == (1, 30) and 1 <= r["best_epoch"] <= 30
    assert r["accuracy"] == r["curves"][0].max()
    # fold 0 tests 19 graphs, 13 of the majority class (0.68, where 3 epochs stay). The best
    # epoch of 19 graphs is noisy (scrambled labels reach 0.84 once); the last 10 epochs'
    # mean is not: 0.81 learnt, 0.67 with scrambled training labels.
    labels = np.array([g.label for g in data.graphs])
    assert np.bincount(labels).max() / len(labels) < 0.67
    assert r["accuracy"] >= 15 / 19 - 1e-6
    assert r["curves"][0, -10:].mean() >= 0.72          # the majority: 0.684


CORA = ["model.hidden=8", "training.steps=3", "training.eval_every=1", "checkpoint.every=1",
        "data.hops=1"]


def test_cora_sign_poly_trains_selects_on_val_and_evaluates_as_a_circuit(tmp_path):
    """With the authors' settings (no self-loops, torch init): the circuit's T is the run's."""
    config = load(Config, ROOT / "configs" / "cora_sign_poly.yaml",
                  CORA + ["data.self_loops=false", "model.init=torch"])
    result = train(config, tmp_path, echo=lambda *_: None, interactive=False)
    records = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in records if r["split"] == "test"] == [1, 2, 3]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["eval_split"] == "val" and "final_test" in summary
    circuit = summary["circuit"]
    assert circuit["max_relative_difference"] < 1e-6
    evals = {r["step"]: r["accuracy"] for r in records if r["split"] == "eval"}
    assert evals[circuit["step"]] == max(evals.values())
    assert circuit["registers"] == {"node": 12, "hop": 1, "feat": 11}
    assert (tmp_path / "circuit" / "comm_decision.json").is_file()
    assert result.eval_metrics["accuracy"] == evals[3] and result.step == 3


def test_circuit_evaluation_needs_a_polynomial_sign_on_a_graph(tmp_path):
    config = load(Config, ROOT / "configs" / "cora_sign_prelu.yaml",
                  CORA + ["circuit.evaluate=true"])
    with pytest.raises(ConfigError, match="only a polynomial SIGN"):
        train(config, tmp_path, echo=lambda *_: None, interactive=False)


def test_every_tu_config_loads_and_bad_settings_name_the_key():
    from qtnet.config import ConfigError

    names = sorted(p.stem for p in (ROOT / "configs" / "tu").glob("*.yaml"))
    assert names == ["COLLAB", "IMDBBINARY", "IMDBMULTI", "MUTAG", "NCI1", "PROTEINS", "PTC",
                     "REDDITBINARY"]
    for name in names:
        assert load_settings(ROOT / "configs" / "tu" / f"{name}.yaml").dataset == name
    with pytest.raises(ConfigError, match="norm"):
        load_settings(ROOT / "configs" / "tu" / "MUTAG.yaml", ["norm=group"])
    with pytest.raises(ConfigError, match="unknown key hops.hop"):
        load_settings(ROOT / "configs" / "tu" / "MUTAG.yaml", ["hops.hop=3"])


def _toy_nodes(n=12, k=2, f=3, c=3, seed=0):
    """Random hop features and a split of 5 training, 4 validation and 3 test nodes."""
    hops = np.random.default_rng(seed).random((n, k, f))
    data = NodeDataset("toy", np.zeros((n, 1)), np.arange(n) % c, sp.csr_matrix((n, n)),
                       np.arange(5), np.arange(5, 9), np.arange(9, 12))
    return hops, data


def test_node_protocol_is_the_papers_loop_written_out():
    """Table 1's training through the shared step equals the protocol written out: epoch e
    (from 1) draws key fold_in(PRNGKey(seed), e); micro-batch b of the training nodes drops
    out with fold_in(key, b); the gradients of the summed losses are added and divided by
    the training-node count; one Adam step per epoch."""
    hops, data = _toy_nodes()
    s = SignNodeSettings(hops=1, hidden=4, epochs=3, eval_every=1, batch_size=2,
                         learning_rate=0.1)
    evals = []
    final = train_sign_node(hops, data, s, 3, lambda epoch, zv, zt: evals.append(epoch))
    assert evals == [1, 2, 3]

    model = SIGN(3, 3, hops=1, hidden=4, rngs=nnx.Rngs(params=3))
    graphdef, params = nnx.split(model, nnx.Param)
    params = nnx.to_pure_dict(params)
    tx = optax.adam(0.1)
    opt_state = tx.init(params)
    x, y = jnp.asarray(hops), jnp.asarray(data.labels)
    for epoch in range(1, 4):
        key = jax.random.fold_in(jax.random.PRNGKey(3), epoch)
        grads = []
        for b, start in enumerate(range(0, 5, 2)):
            idx, k = data.train[start:start + 2], jax.random.fold_in(key, b)

            def loss(p, idx=idx, k=k):
                out = nnx.merge(graphdef, p)(x[idx], key=k)
                return optax.softmax_cross_entropy_with_integer_labels(out["logits"],
                                                                       y[idx]).sum()
            grads.append(jax.grad(loss)(params))
        grads = jax.tree.map(lambda *g: sum(g) / 5, *grads)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
    for got, want in zip(jax.tree.leaves(final.params), jax.tree.leaves(params)):
        # float32 parameters: jitted and eager updates agree to rounding; another dropout
        # key or another split into micro-batches moves them by ~lr
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_run_sign_node_reports_test_figures_at_the_first_best_validation_epoch():
    """The selection rule written out on the same run's logits (training is a pure function
    of the seed): test accuracy and decision accuracy at the first epoch of best validation
    accuracy, each."""
    from qtnet.experiments.decision import decision_accuracy

    hops, data = _toy_nodes()
    settings = SignNodeSettings(hops=1, hidden=4, epochs=4, eval_every=1)
    r = run_sign_node(hops, data, settings, 0)
    seen = []
    train_sign_node(hops, data, settings, 0,
                    lambda epoch, zv, zt: seen.append((epoch, np.asarray(zv), np.asarray(zt))))
    y_val, y_test = data.labels[data.val], data.labels[data.test]
    val_acc = [np.mean(zv.argmax(1) == y_val) for _, zv, _ in seen]
    val_dec = [decision_accuracy(zv, y_val, 3) for _, zv, _ in seen]
    acc_at, dec_at = int(np.argmax(val_acc)), int(np.argmax(val_dec))   # first of the best
    assert r["epoch"] == seen[acc_at][0] and r["val_acc"] == val_acc[acc_at]
    assert r["test_acc"] == np.mean(seen[acc_at][2].argmax(1) == y_test)
    assert r["dec_epoch"] == seen[dec_at][0]
    assert r["test_dec"] == decision_accuracy(seen[dec_at][2], y_test, 3)


def test_authors_graph_model_is_hidden_times_blocks_wide_with_torch_init():
    from qtnet.experiments.table2 import AS_AUTHORS

    mutag = ROOT / "configs" / "tu" / "MUTAG.yaml"
    assert load_settings(mutag).width == 64
    s = load_settings(mutag, list(AS_AUTHORS))        # hops 6 + 5 + 1 + 8, X itself: 21 blocks
    assert (s.width, s.init) == (64 * 21, "torch")
    model = make_model(s, 7 * 21, 2, seed=0)
    assert model.lin.kernel.shape == (147, 1344) and model.out.kernel.shape == (1344, 2)
    bound = 147 ** -0.5                               # U(+-1/sqrt(fan_in)), biases too
    for p in (model.lin.kernel[...], model.lin.bias[...]):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.95 * bound
    assert not np.any(make_model(load_settings(mutag), 147, 2, seed=0).lin.bias[...])
    with pytest.raises(ConfigError, match="init"):
        load_settings(mutag, ["init=xavier"])
    with pytest.raises(ConfigError, match="hidden_times_blocks"):
        load_settings(mutag, ["hidden_times_blocks=sometimes"])


def test_circuit_evaluation_uses_the_t_the_hops_were_made_with(tmp_path):
    from qtnet.experiments.sign_circuit_eval import evaluate_sign_circuit

    rng = np.random.default_rng(0)
    ring = np.roll(np.eye(8), 1, axis=1)
    a = sp.csr_matrix(ring + ring.T + np.diag(np.ones(4), 4) + np.diag(np.ones(4), -4))
    graph = NodeDataset("ring", sp.csr_matrix(rng.random((8, 3))), np.arange(8) % 2, a,
                        np.arange(2), np.arange(2, 4), np.arange(4, 8))
    feats = sign_hops(graph, 1, self_loops=False, dtype=np.float64)
    model = SIGN(3, 2, hops=1, hidden=2, init="torch", rngs=nnx.Rngs(params=0))
    same = evaluate_sign_circuit(model, graph, feats, self_loops=False)
    assert same["max_relative_difference"] < 1e-6
    other = evaluate_sign_circuit(model, graph, feats)            # T from A + I: not the hops'
    assert other["max_relative_difference"] > 1e-3
