"""Planetoid citation graphs (``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}``).

The files are Python 2 pickles. They are read with an unpickler that admits only the numpy and
scipy types they contain (arrays, dtypes, CSR matrices, a defaultdict of lists), so a
malicious file cannot run code: any other global is refused with the file's name.
"""

from __future__ import annotations

import collections
import pickle
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from qtnet.data.types import DataError, NodeDataset

# (module, name) as written by Python 2 / old numpy / old scipy -> the object to build.
_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("scipy.sparse.csr", "csr_matrix"): sp.csr_matrix,
    ("scipy.sparse._csr", "csr_matrix"): sp.csr_matrix,
    ("collections", "defaultdict"): collections.defaultdict,
    ("__builtin__", "list"): list,
    ("builtins", "list"): list,
}


_NUMPY_RECONSTRUCT = (getattr(np, "_core", None) or np.core).multiarray._reconstruct


def _reconstruct(cls, shape, dtype):
    """numpy's pickled-array constructor, for plain ndarrays only."""
    if cls is not np.ndarray:
        raise pickle.UnpicklingError(f"refusing to build {cls!r}")
    return _NUMPY_RECONSTRUCT(cls, shape, dtype)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module, name):
        if (module, name) == ("numpy.core.multiarray", "_reconstruct") or (
                module, name) == ("numpy._core.multiarray", "_reconstruct"):
            return _reconstruct
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise DataError(f"{self.path}: refusing to load {module}.{name} from a pickle "
                        f"(only numpy arrays, scipy CSR matrices and lists are allowed)")


def _load_pickle(path: Path):
    if not path.is_file():
        raise DataError(f"missing Planetoid file {path}")
    try:
        with path.open("rb") as f:
            return _RestrictedUnpickler(f, path).load()
    except DataError:
        raise
    except Exception as err:     # noqa: BLE001 - EOFError, UnpicklingError, ValueError, ...
        raise DataError(f"{path}: not a readable Planetoid pickle "
                        f"({type(err).__name__}: {err})") from None


def _as_csr(x, path: Path) -> sp.csr_matrix:
    if sp.issparse(x):
        return sp.csr_matrix(x)
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return sp.csr_matrix(x)
    raise DataError(f"{path}: expected a feature matrix, got {type(x).__name__}")


def _as_labels(y, path: Path) -> np.ndarray:
    if not isinstance(y, np.ndarray) or y.ndim != 2:
        raise DataError(f"{path}: expected one-hot labels [nodes, classes], got "
                        f"{type(y).__name__} {getattr(y, 'shape', '')}")
    return y


def _check_test_ids(test_ids: np.ndarray, n_rows: int, n_train_val: int, path: Path) -> int:
    """The node count the test ids imply, after checking them: distinct, not among the
    ``n_rows`` nodes of ``allx`` (train and val live there), and within the test block (the
    test nodes follow ``allx``; CiteSeer leaves a few ids unused, never more than the block
    again)."""
    if n_train_val > n_rows:
        raise DataError(f"{path.parent}: allx has {n_rows} rows, fewer than the "
                        f"{n_train_val} train + val nodes of the standard split")
    if len(test_ids) == 0:
        raise DataError(f"{path}: no test ids")
    limit = n_rows + 2 * len(test_ids)
    bad = test_ids[(test_ids < 0) | (test_ids >= limit)]
    if len(bad):
        raise DataError(f"{path}: test id {int(bad[0])} outside {n_rows}..{limit - 1} "
                        f"(the test block after allx's {n_rows} rows)")
    if (test_ids < n_rows).any():
        raise DataError(f"{path}: test ids overlap the training / validation nodes "
                        f"(0..{n_rows - 1}), e.g. {int(test_ids[test_ids < n_rows][0])}")
    unique, counts = np.unique(test_ids, return_counts=True)
    if (counts > 1).any():
        raise DataError(f"{path}: duplicate test ids, e.g. {int(unique[counts > 1][0])} "
                        f"({int((counts > 1).sum())} repeated)")
    return int(test_ids.max()) + 1


def load_planetoid(folder: str | Path, name: str) -> NodeDataset:
    """Cora / CiteSeer / PubMed in the Planetoid layout, with the standard split (train: the
    rows of ``x``; val: the next 500 nodes; test: ``test.index``). Test ids that have no
    feature row (CiteSeer's isolated nodes) get zero features and label -1."""
    folder = Path(folder)
    files = {k: folder / f"ind.{name}.{k}" for k in ("x", "y", "tx", "ty", "allx", "ally",
                                                      "graph")}
    x, tx, allx = (_as_csr(_load_pickle(files[k]), files[k]) for k in ("x", "tx", "allx"))
    y, ty, ally = (_as_labels(_load_pickle(files[k]), files[k]) for k in ("y", "ty", "ally"))
    graph = _load_pickle(files["graph"])
    index_path = folder / f"ind.{name}.test.index"
    if not index_path.is_file():
        raise DataError(f"missing Planetoid file {index_path}")
    try:
        test_ids = np.array([int(line) for line in index_path.read_text().split()], np.int64)
    except (ValueError, OverflowError, UnicodeDecodeError):
        raise DataError(f"{index_path}: expected one integer node id per line") from None

    for a, b, what in ((x, y, "x/y"), (tx, ty, "tx/ty"), (allx, ally, "allx/ally")):
        if a.shape[0] != b.shape[0]:
            raise DataError(f"{folder}: {what} have {a.shape[0]} feature rows but "
                            f"{b.shape[0]} label rows")
    if len({x.shape[1], tx.shape[1], allx.shape[1]}) != 1:
        raise DataError(f"{folder}: x, tx, allx have different feature counts")
    for key, a in (("x", x), ("tx", tx), ("allx", allx)):
        if not np.all(np.isfinite(a.data)):
            raise DataError(f"{files[key]}: the features hold NaN/inf values")
    if not isinstance(graph, dict):
        raise DataError(f"{files['graph']}: expected a dict of adjacency lists")
    if len(test_ids) != tx.shape[0]:
        raise DataError(f"{index_path}: {len(test_ids)} test ids but tx has {tx.shape[0]} rows")
    n_nodes = max(_check_test_ids(test_ids, allx.shape[0], y.shape[0] + 500, index_path),
                  allx.shape[0])

    n_feat, n_cls = x.shape[1], y.shape[1]
    features = sp.lil_matrix((n_nodes, n_feat))
    labels = -np.ones(n_nodes, np.int64)
    features[: allx.shape[0]] = allx
    labels[: ally.shape[0]] = np.where(ally.sum(1) > 0, ally.argmax(1), -1)
    features[test_ids] = tx
    labels[test_ids] = np.where(ty.sum(1) > 0, ty.argmax(1), -1)

    rows, cols = [], []
    for node, nbrs in graph.items():
        if not isinstance(nbrs, list | tuple | np.ndarray):
            raise DataError(f"{files['graph']}: node {node!r}: expected a list of neighbours, "
                            f"got {type(nbrs).__name__}")
        for nbr in nbrs:
            if not all(isinstance(v, int | np.integer) for v in (node, nbr)):
                raise DataError(f"{files['graph']}: edge {node!r}-{nbr!r}: node ids must be "
                                f"integers")
            if not (0 <= node < n_nodes and 0 <= nbr < n_nodes):
                raise DataError(f"{files['graph']}: edge {node}-{nbr} names a node outside "
                                f"0..{n_nodes - 1}")
            rows.append(node)
            cols.append(nbr)
    adj = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_nodes, n_nodes)).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.float64)
    adj.setdiag(0)            # CiteSeer lists some nodes among their own neighbours
    adj.eliminate_zeros()

    train = np.arange(y.shape[0])
    val = np.arange(y.shape[0], y.shape[0] + 500)
    if n_cls != ty.shape[1] or n_cls != ally.shape[1]:
        raise DataError(f"{folder}: y, ty, ally disagree on the number of classes")
    return NodeDataset(name, features.tocsr(), labels, adj.tocsr(), train, val,
                       np.sort(test_ids))
