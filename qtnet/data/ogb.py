"""OGB node-property-prediction folders (e.g. ogbn-products) and Reddit as GNN libraries ship it.

OGB layout (as the ``ogb`` package unpacks it): ``raw/edge.csv.gz`` (``src,dst`` per line,
0-based, each undirected edge once), ``raw/node-feat.csv.gz`` (comma-separated floats),
``raw/node-label.csv.gz`` (one class per line), ``raw/num-node-list.csv.gz``, and
``split/<scheme>/{train,valid,test}.csv.gz`` (node ids). Reddit (PyG / DGL):
``reddit_data.npz`` with ``feature``, ``label``, ``node_types`` (1 train, 2 val, 3 test) and
``reddit_graph.npz``, a scipy sparse matrix saved with ``scipy.sparse.save_npz``. Both are
read without pickle.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from qtnet.data.types import DataError, NodeDataset


def _csv(path: Path, dtype) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"missing OGB file {path}")
    try:
        return np.loadtxt(path, delimiter=",", dtype=dtype, ndmin=2)
    except (ValueError, OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: malformed or truncated CSV ({type(err).__name__}: "
                        f"{str(err).splitlines()[0][:120]})") from None


def _symmetric(rows, cols, n) -> sp.csr_matrix:
    adj = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.float64)
    adj.setdiag(0)
    adj.eliminate_zeros()
    return adj.tocsr()


def load_ogb_nodeprop(folder: str | Path, split: str | None = None) -> NodeDataset:
    """An OGB node-property-prediction dataset folder (``split``: the scheme under
    ``split/``; default the only one there)."""
    folder = Path(folder)
    raw = folder / "raw"
    n_nodes = int(_csv(raw / "num-node-list.csv.gz", np.int64).sum())
    edges = _csv(raw / "edge.csv.gz", np.int64)
    feats = _csv(raw / "node-feat.csv.gz", np.float32)
    labels = _csv(raw / "node-label.csv.gz", np.float64)[:, 0]
    if edges.shape[1] != 2:
        raise DataError(f"{raw / 'edge.csv.gz'}: expected two columns 'src,dst'")
    if len(edges) and (edges.min() < 0 or edges.max() >= n_nodes):
        raise DataError(f"{raw / 'edge.csv.gz'}: node id outside 0..{n_nodes - 1}")
    for arr, what in ((feats, "node-feat"), (labels, "node-label")):
        if arr.shape[0] != n_nodes:
            raise DataError(f"{raw / (what + '.csv.gz')}: {arr.shape[0]} rows for "
                            f"{n_nodes} nodes (num-node-list)")
    if not np.all(np.isfinite(feats)):
        raise DataError(f"{raw / 'node-feat.csv.gz'}: the features hold NaN/inf values")
    schemes = sorted(p.name for p in (folder / "split").glob("*") if p.is_dir())
    if split is None:
        if len(schemes) != 1:
            raise DataError(f"{folder / 'split'}: choose a split among {schemes or 'none'}")
        split = schemes[0]
    parts = [_csv(folder / "split" / split / f"{k}.csv.gz", np.int64)[:, 0]
             for k in ("train", "valid", "test")]
    for part, k in zip(parts, ("train", "valid", "test")):
        if len(part) and (part.min() < 0 or part.max() >= n_nodes):
            raise DataError(f"{folder / 'split' / split / (k + '.csv.gz')}: node id outside "
                            f"0..{n_nodes - 1}")
    for part, k in zip(parts, ("train", "valid", "test")):
        if len(np.unique(part)) != len(part):
            raise DataError(f"{folder / 'split' / split / (k + '.csv.gz')}: a node id repeats")
    for (a, ka), (b, kb) in (((parts[0], "train"), (parts[1], "valid")),
                             ((parts[0], "train"), (parts[2], "test")),
                             ((parts[1], "valid"), (parts[2], "test"))):
        common = np.intersect1d(a, b)
        if len(common):
            raise DataError(f"{folder / 'split' / split}: {ka} and {kb} overlap "
                            f"({len(common)} nodes, e.g. {int(common[0])})")
    label_ids = np.where(np.isnan(labels), -1, labels).astype(np.int64)
    return NodeDataset(folder.name, feats, label_ids,
                       _symmetric(edges[:, 0], edges[:, 1], n_nodes), *parts)


def load_reddit(folder: str | Path) -> NodeDataset:
    """Reddit from ``reddit_data.npz`` + ``reddit_graph.npz`` (the PyG / DGL files)."""
    folder = Path(folder)
    data_path, graph_path = folder / "reddit_data.npz", folder / "reddit_graph.npz"
    for path in (data_path, graph_path):
        if not path.is_file():
            raise DataError(f"missing Reddit file {path}")
    try:
        with np.load(data_path, allow_pickle=False) as data:
            missing = {"feature", "label", "node_types"} - set(data.files)
            if missing:
                raise DataError(f"{data_path}: missing arrays {sorted(missing)}")
            feats, labels, types = data["feature"], data["label"], data["node_types"]
        adj = sp.load_npz(graph_path)
    except DataError:
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"{folder}: unreadable Reddit files ({type(err).__name__}: "
                        f"{str(err).splitlines()[0][:120]})") from None
    n = feats.shape[0]
    if labels.shape != (n,) or types.shape != (n,):
        raise DataError(f"{data_path}: feature has {n} rows but label {labels.shape} and "
                        f"node_types {types.shape}")
    if adj.shape != (n, n):
        raise DataError(f"{graph_path}: adjacency {adj.shape} for {n} nodes")
    if not set(np.unique(types)) <= {1, 2, 3}:
        raise DataError(f"{data_path}: node_types must be 1 (train), 2 (val) or 3 (test)")
    if not np.issubdtype(feats.dtype, np.number) or not np.all(np.isfinite(feats)):
        raise DataError(f"{data_path}: the features hold NaN/inf values (or are not numbers)")
    adj = adj.tocoo()
    return NodeDataset("reddit", feats.astype(np.float32), labels.astype(np.int64),
                       _symmetric(adj.row, adj.col, n), np.flatnonzero(types == 1),
                       np.flatnonzero(types == 2), np.flatnonzero(types == 3))
