"""SIGN hop features: X_k = T^k X for the paper's propagation operator T."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from qtnet.data.types import GraphDataset, NodeDataset


def _inverse(v: np.ndarray) -> np.ndarray:
    """1 / v where v > 0, else 0."""
    return np.where(v > 0, 1.0 / np.where(v > 0, v, 1.0), 0.0)


def sign_operator(adjacency: sp.spmatrix, *, self_loops: bool = True) -> sp.csr_matrix:
    """T: D^{-1/2} (A + I) D^{-1/2}, then each row scaled to sum 1. Without ``self_loops``
    (the authors' Cora code) the same from A alone; an isolated node's row is then zero."""
    a = sp.csr_matrix(adjacency, dtype=np.float64)
    if self_loops:
        a = a + sp.identity(adjacency.shape[0], format="csr")
    inv_sqrt = sp.diags(np.sqrt(_inverse(np.asarray(a.sum(1)).ravel())))
    s = inv_sqrt @ a @ inv_sqrt
    return (sp.diags(_inverse(np.asarray(s.sum(1)).ravel())) @ s).tocsr()


def sign_hops(dataset: NodeDataset, hops: int, *, normalize_features: bool = True,
              self_loops: bool = True, dtype=np.float32) -> np.ndarray:
    """``[n_nodes, hops + 1, n_features]``: X, T X, ..., T^hops X (computed once, sparse T;
    ``self_loops``: see :func:`sign_operator`).

    ``normalize_features`` scales every node's feature row to sum 1 (the usual Planetoid
    preprocessing); rows of zeros stay zero.
    """
    x = sp.csr_matrix(dataset.features, dtype=np.float64)
    if normalize_features:
        sums = np.asarray(x.sum(1)).ravel()
        x = sp.diags(_inverse(sums)) @ x
    t = sign_operator(dataset.adjacency, self_loops=self_loops)
    out = np.empty((x.shape[0], hops + 1, x.shape[1]), dtype)
    current = x.toarray()
    for k in range(hops + 1):
        out[:, k] = current
        if k < hops:
            current = t @ current
    return out


@dataclasses.dataclass(frozen=True)
class GraphHops:
    """How many hops of each SIGN diffusion the graph model concatenates (Table 2's columns)."""

    gcn: int = 0
    ppr: int = 0
    raw: int = 0
    rw: int = 0
    ppr_alpha: float = 0.2       # H <- (1 - alpha) gcn(H) + alpha X

    @property
    def blocks(self) -> int:
        """Feature blocks per node: X itself and one per hop."""
        return 1 + self.gcn + self.ppr + self.raw + self.rw


def node_tags(dataset: GraphDataset, degree_features: bool) -> tuple[np.ndarray, int]:
    """Each node's one-hot index and the one-hot width: its tag, or its degree (self-loops
    excluded) when ``degree_features`` (the IMDB / COLLAB sets, which have no tags)."""
    if not degree_features:
        return np.concatenate([g.tags for g in dataset.graphs]), dataset.n_tags
    degrees = []
    for g in dataset.graphs:
        a = g.adjacency()
        degrees.append(np.asarray(a.sum(1)).ravel().astype(np.int64) - a.diagonal().astype(
            np.int64))
    d = np.concatenate(degrees)
    return d, int(d.max()) + 1


def graph_hop_features(dataset: GraphDataset, hops: GraphHops, *, degree_features: bool = False,
                       dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """SIGN diffusion features of every node of every graph, as the paper's graph model uses:

        [X | A^k X (k=1..raw) | (D^-1 A)^k X (..rw) | gcn^k X (..gcn) | ppr hops (..ppr)]

    with self-loops added to A, gcn = D^-1/2 A D^-1/2, and ppr hops H <- 0.8 gcn(H) + 0.2 X.
    X is one-hot node tags (or degrees). All graphs are propagated at once as one
    block-diagonal sparse matrix. Returns ``features [n_nodes_total, blocks * width]`` and
    ``graph_of_node [n_nodes_total]``.
    """
    index, width = node_tags(dataset, degree_features)
    n = len(index)
    x = sp.csr_matrix((np.ones(n), (np.arange(n), index)), shape=(n, width)).toarray()
    a = sp.block_diag([g.adjacency() for g in dataset.graphs], format="csr")
    a = (a + sp.identity(n, format="csr")).tocsr()
    a.data[:] = 1.0                                       # a listed self-loop stays weight 1
    d = np.asarray(a.sum(1)).ravel()
    rw = (sp.diags(1.0 / d) @ a).tocsr()
    gcn = (sp.diags(d ** -0.5) @ a @ sp.diags(d ** -0.5)).tocsr()
    blocks = [x]
    for op, k in ((a, hops.raw), (rw, hops.rw), (gcn, hops.gcn)):
        h = x
        for _ in range(k):
            h = op @ h
            blocks.append(h)
    h = x
    for _ in range(hops.ppr):
        h = (1 - hops.ppr_alpha) * (gcn @ h) + hops.ppr_alpha * x
        blocks.append(h)
    graph_of_node = np.repeat(np.arange(len(dataset.graphs)),
                              [g.n_nodes for g in dataset.graphs])
    return np.concatenate(blocks, axis=1).astype(dtype), graph_of_node
