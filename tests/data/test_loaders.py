"""Graph dataset loaders: real files (bundled and ../shared/data) and small files written in
each format, including truncated, malformed, inconsistent and malicious ones."""

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from qtnet.data import (DataError, load_gin_text, load_graph_dataset, load_node_dataset,
                        load_ogb_nodeprop, load_planetoid, load_reddit, load_tu)
from qtnet.data.bundled import BUNDLED

ROOT = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (ROOT.parent / "shared" / "data", Path("/work/shared/data"))
               if p.is_dir()), None)
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared/data is not present")


def test_bundled_cora_has_the_published_statistics():
    d = load_node_dataset("cora")
    assert (d.n_nodes, d.n_edges, d.features.shape[1], d.features.nnz) == (2708, 5278, 1433,
                                                                           49216)
    assert d.n_classes == 7 and (len(d.train), len(d.val), len(d.test)) == (140, 500, 1000)
    assert np.all(np.bincount(d.labels[d.train]) == 20)
    assert (d.adjacency != d.adjacency.T).nnz == 0 and d.adjacency.diagonal().sum() == 0
    assert not set(d.train) & set(d.val) and not set(d.val) & set(d.test)


def test_bundled_mutag_and_its_folds():
    d = load_graph_dataset("MUTAG")
    assert len(d.graphs) == 188 and list(np.bincount(d.labels)) == [63, 125]
    assert sum(g.n_nodes for g in d.graphs) == 3371
    assert sum(len(g.edges) for g in d.graphs) == 3721 and d.n_tags == 7
    assert len(d.folds) == 10
    tests = [set(test) for _, test in d.folds]
    assert all(not a & b for i, a in enumerate(tests) for b in tests[i + 1:])
    for train, test in d.folds:
        assert set(train) | set(test) == set(range(188))


@needs_shared
def test_bundled_copies_equal_the_shared_data_and_both_formats_agree():
    a, b = load_node_dataset("cora"), load_planetoid(SHARED / "cora", "cora")
    assert (a.adjacency != b.adjacency).nnz == 0 and (a.features != b.features).nnz == 0
    gin, tu = load_gin_text(SHARED / "MUTAG", "MUTAG"), load_tu(SHARED / "MUTAG", "MUTAG")
    # The two distributions order the graphs differently: compare them as multisets.
    shape = lambda d: sorted((g.n_nodes, len(g.edges), g.label) for g in d.graphs)
    assert shape(gin) == shape(tu) and gin.n_tags == tu.n_tags == 7


@needs_shared
@pytest.mark.parametrize("name, graphs, nodes, edges, tags", [
    ("PTC", 344, 8792, 8931, 19), ("PROTEINS", 1113, 43471, 81044, 3),
    ("NCI1", 4110, 122747, 132753, 37), ("IMDBBINARY", 1000, 19773, 96531, 1),
    ("IMDBMULTI", 1500, 19502, 98903, 1),
])
def test_shared_tu_sets_have_their_documented_sizes(name, graphs, nodes, edges, tags):
    d = load_graph_dataset(name, root=SHARED)
    assert len(d.graphs) == graphs and d.n_tags == tags
    assert sum(g.n_nodes for g in d.graphs) == nodes
    assert sum(len(g.edges) for g in d.graphs) == edges


@needs_shared
def test_citeseer_missing_test_nodes_get_no_label():
    d = load_node_dataset("citeseer", root=SHARED)
    assert d.n_nodes == 3327 and d.n_edges == 4552 and int((d.labels < 0).sum()) == 15


# -- Planetoid: hostile and broken files ---------------------------------------------------

def _copy_cora(tmp_path):
    folder = tmp_path / "cora"
    folder.mkdir(parents=True)
    for f in (BUNDLED / "cora").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    folder = _copy_cora(tmp_path)
    (folder / "ind.cora.graph").write_bytes(pickle.dumps(_Exploit(), protocol=2))
    with pytest.raises(DataError, match=r"ind.cora.graph: refusing to load (posix|os)\.system"):
        load_planetoid(folder, "cora")
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_truncated_and_inconsistent_planetoid_files(tmp_path):
    folder = _copy_cora(tmp_path)
    data = (folder / "ind.cora.tx").read_bytes()
    (folder / "ind.cora.tx").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"ind.cora.tx: not a readable Planetoid pickle"):
        load_planetoid(folder, "cora")
    folder = _copy_cora(tmp_path / "b")
    ids = (folder / "ind.cora.test.index").read_text().split()
    (folder / "ind.cora.test.index").write_text("\n".join(ids[:-5]))
    with pytest.raises(DataError, match="995 test ids but tx has 1000 rows"):
        load_planetoid(folder, "cora")
    (folder / "ind.cora.y").unlink()
    with pytest.raises(DataError, match="missing Planetoid file .*ind.cora.y"):
        load_planetoid(folder, "cora")


# -- GIN text and TU formats -----------------------------------------------------------------

GIN = "2\n3 1\n0 1 1\n1 2 0 2\n0 1 1\n2 0\n1 1 1\n1 1 0\n"


def test_gin_text_round_trip_and_errors(tmp_path):
    (tmp_path / "toy.txt").write_text(GIN)
    d = load_gin_text(tmp_path, "toy")
    assert [g.label for g in d.graphs] == [1, 0] and d.n_tags == 2
    assert d.graphs[0].edges.tolist() == [[0, 1], [1, 2]]
    assert (d.graphs[0].adjacency().toarray() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]).all()
    with gzip.open(tmp_path / "gz.txt.gz", "wt") as f:
        f.write(GIN)
    assert len(load_gin_text(tmp_path, "gz").graphs) == 2
    (tmp_path / "cut.txt").write_text(GIN[:20])
    with pytest.raises(DataError, match="cut.txt: truncated"):
        load_gin_text(tmp_path, "cut")
    (tmp_path / "bad.txt").write_text(GIN.replace("1 2 0 2", "1 2 0 7"))
    with pytest.raises(DataError, match=r"bad.txt, line 4: neighbour 7 outside"):
        load_gin_text(tmp_path, "bad")
    (tmp_path / "text.txt").write_text(GIN.replace("3 1", "three 1"))
    with pytest.raises(DataError, match=r"text.txt, line 2: expected integers"):
        load_gin_text(tmp_path, "text")
    with pytest.raises(DataError, match="missing GIN-format file"):
        load_gin_text(tmp_path, "absent")


def test_tu_format_and_its_consistency_checks(tmp_path):
    def write(name, a, indicator, labels):
        (tmp_path / f"{name}_A.txt").write_text(a)
        (tmp_path / f"{name}_graph_indicator.txt").write_text(indicator)
        (tmp_path / f"{name}_graph_labels.txt").write_text(labels)

    write("ok", "1, 2\n2, 1\n2, 3\n3, 2\n4, 5\n5, 4\n", "1\n1\n1\n2\n2\n", "-1\n1\n")
    d = load_tu(tmp_path, "ok")
    assert [g.label for g in d.graphs] == [0, 1]
    assert d.graphs[1].edges.tolist() == [[0, 1]]
    write("cross", "3, 4\n4, 3\n", "1\n1\n1\n2\n2\n", "0\n1\n")
    with pytest.raises(DataError, match="an edge joins nodes of different graphs"):
        load_tu(tmp_path, "cross")
    write("order", "1, 2\n", "2\n1\n", "0\n1\n")
    with pytest.raises(DataError, match="graph ids must run 1..2 in order"):
        load_tu(tmp_path, "order")


# -- OGB and Reddit, written in their own formats ----------------------------------------------

def _gz(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as f:
        f.write(text)


def _ogb(folder, n=5):
    raw = folder / "raw"
    _gz(raw / "num-node-list.csv.gz", f"{n}\n")
    _gz(raw / "num-edge-list.csv.gz", "4\n")
    _gz(raw / "edge.csv.gz", "0,1\n1,2\n2,3\n3,4\n")
    _gz(raw / "node-feat.csv.gz", "".join(f"{i}.0,{i * 0.5}\n" for i in range(n)))
    _gz(raw / "node-label.csv.gz", "0\n1\n2\n1\n0\n")
    for part, ids in (("train", "0\n1\n"), ("valid", "2\n"), ("test", "3\n4\n")):
        _gz(folder / "split" / "sales_ranking" / f"{part}.csv.gz", ids)


def test_ogb_nodeprop_folder(tmp_path):
    folder = tmp_path / "ogbn_products"
    _ogb(folder)
    d = load_ogb_nodeprop(folder)
    assert d.n_nodes == 5 and d.n_edges == 4 and d.features.shape == (5, 2)
    assert d.train.tolist() == [0, 1] and d.test.tolist() == [3, 4] and d.n_classes == 3
    assert (d.adjacency != d.adjacency.T).nnz == 0
    _gz(folder / "raw" / "node-label.csv.gz", "0\n1\n")
    with pytest.raises(DataError, match=r"node-label.csv.gz: 2 rows for 5 nodes"):
        load_ogb_nodeprop(folder)
    _ogb(folder)
    good = (folder / "raw" / "edge.csv.gz").read_bytes()
    (folder / "raw" / "edge.csv.gz").write_bytes(good[: len(good) - 8])
    with pytest.raises(DataError, match=r"edge.csv.gz: malformed or truncated CSV"):
        load_ogb_nodeprop(folder)
    _ogb(folder)
    _gz(folder / "raw" / "edge.csv.gz", "0,1\n1,9\n")
    with pytest.raises(DataError, match=r"node id outside 0..4"):
        load_ogb_nodeprop(folder)


def test_reddit_npz_files(tmp_path):
    n = 6
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "reddit_data.npz", feature=rng.normal(size=(n, 3)),
             label=np.arange(n) % 2, node_types=np.array([1, 1, 2, 3, 3, 1]))
    sp.save_npz(tmp_path / "reddit_graph.npz", sp.coo_matrix(
        (np.ones(3), ([0, 1, 4], [1, 2, 5])), shape=(n, n)))
    d = load_reddit(tmp_path)
    assert d.train.tolist() == [0, 1, 5] and d.val.tolist() == [2] and d.n_edges == 3
    np.savez(tmp_path / "reddit_data.npz", feature=rng.normal(size=(n, 3)),
             label=np.arange(n) % 2)
    with pytest.raises(DataError, match=r"missing arrays \['node_types'\]"):
        load_reddit(tmp_path)
    (tmp_path / "reddit_graph.npz").write_bytes(b"not a zip")
    np.savez(tmp_path / "reddit_data.npz", feature=rng.normal(size=(n, 3)),
             label=np.arange(n) % 2, node_types=np.ones(n, int))
    with pytest.raises(DataError, match="unreadable Reddit files"):
        load_reddit(tmp_path)
