"""The paper's SIGN tasks: graph diffusion features, the graph model, the Table 2 protocol
on bundled MUTAG, and the Cora node task through the trainer with its circuit evaluation."""

import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from qtnet.config import Config, ConfigError, load
from qtnet.data import Graph, GraphDataset, load_graph_dataset
from qtnet.data.features import GraphHops, graph_hop_features
from qtnet.models.sign_graph import SIGNGraph
from qtnet.training import read_metrics, train
from qtnet.training.sign_graph import batch_arrays, cross_validate, load_settings, pack

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
    settings = load_settings(ROOT / "configs" / "tu" / "MUTAG.yaml", ["epochs=3"])
    assert (settings.hidden, settings.hops.rw, settings.batch_size) == (64, 8, 128)
    r = cross_validate(data, settings, folds=[0])
    assert r["curves"].shape == (1, 3)
    assert 0.5 <= r["accuracy"] <= 1.0 and 1 <= r["best_epoch"] <= 3
    assert r["accuracy"] == r["curves"][0].max()


CORA = ["model.hidden=8", "training.steps=3", "training.eval_every=1", "checkpoint.every=1",
        "data.hops=1"]


def test_cora_sign_poly_trains_selects_on_val_and_evaluates_as_a_circuit(tmp_path):
    config = load(Config, ROOT / "configs" / "cora_sign_poly.yaml", CORA)
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
