"""Graph-classification sets: the GIN/DGCNN text format and the TU (Morris et al.) format.

GIN text (``<DS>.txt`` or ``<DS>.txt.gz``): a line ``N``; per graph a line ``n label`` and n
lines ``tag m nbr_1 ... nbr_m`` (0-based neighbours within the graph). Optional folds in
``10fold_idx/{train,test}_idx-k.txt``. TU: ``<DS>_A.txt`` (``row, col``, 1-based global
node ids), ``_graph_indicator.txt``, ``_graph_labels.txt``, optional ``_node_labels.txt``.
Labels of either format are mapped to 0..C-1 in sorted order; node tags likewise.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from qtnet.data.types import DataError, Graph, GraphDataset


def _open_text(path: Path) -> list[str]:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt") as f:
                return f.read().splitlines()
        return path.read_text().splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read ({type(err).__name__}: {err})") from None


def _ints(line: str, path: Path, lineno: int) -> list[int]:
    try:
        return [int(t) for t in line.split()]
    except ValueError:
        raise DataError(f"{path}, line {lineno}: expected integers, got {line[:80]!r}") from None


def _undirected(pairs: set[tuple[int, int]]) -> np.ndarray:
    edges = sorted({(min(a, b), max(a, b)) for a, b in pairs})
    return np.array(edges, np.int64).reshape(-1, 2)


def load_gin_text(folder: str | Path, name: str) -> GraphDataset:
    """A dataset in the GIN text format, with its 10 folds when ``10fold_idx/`` exists."""
    folder = Path(folder)
    path = next((p for p in (folder / f"{name}.txt", folder / f"{name}.txt.gz") if p.is_file()),
                None)
    if path is None:
        raise DataError(f"missing GIN-format file {folder / name}.txt(.gz)")
    lines = _open_text(path)
    if not lines:
        raise DataError(f"{path}: empty file")
    header = _ints(lines[0], path, 1)
    if len(header) != 1 or header[0] < 1:
        raise DataError(f"{path}, line 1: expected the number of graphs (>= 1)")
    pos, raw = 1, []
    for g in range(header[0]):
        if pos >= len(lines):
            raise DataError(f"{path}: truncated: {header[0]} graphs announced, file ends in "
                            f"graph {g}")
        head = _ints(lines[pos], path, pos + 1)
        if len(head) < 2:
            raise DataError(f"{path}, line {pos + 1}: expected 'n_nodes label'")
        n, label = head[0], head[1]
        if n < 1:
            raise DataError(f"{path}, line {pos + 1}: a graph needs at least one node, got {n}")
        if pos + n >= len(lines) + 1 or pos + 1 + n > len(lines):
            raise DataError(f"{path}: truncated inside graph {g} (line {pos + 1} announces "
                            f"{n} nodes)")
        tags, pairs = [], set()
        for k in range(n):
            lineno = pos + 2 + k
            row = _ints(lines[pos + 1 + k], path, lineno)
            if len(row) < 2 or row[1] < 0 or len(row) < 2 + row[1]:
                raise DataError(f"{path}, line {lineno}: expected 'tag m nbr_1 ... nbr_m'")
            tags.append(row[0])
            for nbr in row[2:2 + row[1]]:
                if not 0 <= nbr < n:
                    raise DataError(f"{path}, line {lineno}: neighbour {nbr} outside the "
                                    f"graph's {n} nodes")
                pairs.add((k, nbr))
        raw.append((np.array(tags, np.int64), _undirected(pairs), label))
        pos += 1 + n
    return _finish(name, raw, _folds(folder, len(raw)))


def _folds(folder: Path, n_graphs: int):
    fold_dir = folder / "10fold_idx"
    if not fold_dir.is_dir():
        return ()
    folds = []
    for k in range(1, 11):
        parts = []
        for kind in ("train", "test"):
            path = fold_dir / f"{kind}_idx-{k}.txt"
            if not path.is_file():
                raise DataError(f"missing fold file {path}")
            idx = np.array([_ints(line, path, lineno)[0]
                            for lineno, line in enumerate(_open_text(path), 1)
                            if line.strip()], np.int64)
            if len(idx) and (idx.min() < 0 or idx.max() >= n_graphs):
                raise DataError(f"{path}: graph index outside 0..{n_graphs - 1}")
            if len(np.unique(idx)) != len(idx):
                raise DataError(f"{path}: a graph index repeats")
            parts.append(idx)
        common = np.intersect1d(*parts)
        if len(common):
            raise DataError(f"{fold_dir}: fold {k}'s train and test indices overlap "
                            f"({len(common)} graphs, e.g. {int(common[0])})")
        folds.append(tuple(parts))
    return tuple(folds)


def _finish(name, raw, folds) -> GraphDataset:
    labels = sorted({lab for _, _, lab in raw})
    tags = sorted({int(t) for tg, _, _ in raw for t in tg})
    label_id = {lab: i for i, lab in enumerate(labels)}
    tag_id = {t: i for i, t in enumerate(tags)}
    graphs = tuple(Graph(edges, np.array([tag_id[int(t)] for t in tg], np.int64),
                         label_id[lab]) for tg, edges, lab in raw)
    return GraphDataset(name, graphs, max(1, len(tags)), folds)


def _column(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"missing TU file {path}")
    values = []
    for lineno, line in enumerate(_open_text(path), 1):
        if line.strip():
            row = _ints(line.replace(",", " "), path, lineno)
            if len(row) != 1:
                raise DataError(f"{path}, line {lineno}: expected one integer")
            values.append(row[0])
    return np.array(values, np.int64)


def load_tu(folder: str | Path, name: str) -> GraphDataset:
    """A dataset in the TU format (``<name>_A.txt``, ``_graph_indicator``, ``_graph_labels``,
    optional ``_node_labels``)."""
    folder = Path(folder)
    indicator = _column(folder / f"{name}_graph_indicator.txt")
    graph_labels = _column(folder / f"{name}_graph_labels.txt")
    node_path = folder / f"{name}_node_labels.txt"
    node_labels = _column(node_path) if node_path.is_file() else np.zeros_like(indicator)
    a_path = folder / f"{name}_A.txt"
    if not a_path.is_file():
        raise DataError(f"missing TU file {a_path}")
    pairs = []
    for lineno, line in enumerate(_open_text(a_path), 1):
        if line.strip():
            row = _ints(line.replace(",", " "), a_path, lineno)
            if len(row) != 2:
                raise DataError(f"{a_path}, line {lineno}: expected 'row, col'")
            pairs.append(row)
    n_nodes, n_graphs = len(indicator), len(graph_labels)
    if len(node_labels) != n_nodes:
        raise DataError(f"{node_path}: {len(node_labels)} node labels for {n_nodes} nodes")
    if indicator.min() < 1 or indicator.max() != n_graphs or np.any(np.diff(indicator) < 0):
        raise DataError(f"{folder / f'{name}_graph_indicator.txt'}: graph ids must run "
                        f"1..{n_graphs} in order (the number of graph labels)")
    edges = np.array(pairs, np.int64).reshape(-1, 2) - 1
    if len(edges) and (edges.min() < 0 or edges.max() >= n_nodes):
        raise DataError(f"{a_path}: node id outside 1..{n_nodes}")
    graph_of = indicator - 1
    if len(edges) and np.any(graph_of[edges[:, 0]] != graph_of[edges[:, 1]]):
        raise DataError(f"{a_path}: an edge joins nodes of different graphs")
    starts = np.searchsorted(graph_of, np.arange(n_graphs))
    raw = []
    for g in range(n_graphs):
        sel = graph_of[edges[:, 0]] == g if len(edges) else np.zeros(0, bool)
        local = edges[sel] - starts[g]
        raw.append((node_labels[graph_of == g], _undirected(set(map(tuple, local.tolist()))),
                    int(graph_labels[g])))
    return _finish(name, raw, ())
