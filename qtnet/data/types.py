"""What the graph loaders return, and the error they raise on bad files."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp


class DataError(ValueError):
    """A data file is missing, truncated, malformed or inconsistent (the message names it)."""


@dataclasses.dataclass(frozen=True)
class NodeDataset:
    """One graph with node features, labels and a train/val/test split of its nodes."""

    name: str
    features: sp.csr_matrix | np.ndarray     # [n_nodes, n_features]
    labels: np.ndarray                       # [n_nodes] int64; -1 where a node has no label
    adjacency: sp.csr_matrix                 # [n_nodes, n_nodes], symmetric, 0/1
    train: np.ndarray                        # node indices
    val: np.ndarray
    test: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(self.adjacency.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.labels.max()) + 1

    @property
    def n_edges(self) -> int:
        """Undirected edges, self-loops excluded."""
        return int(sp.triu(self.adjacency, k=1).nnz)


@dataclasses.dataclass(frozen=True)
class Graph:
    """One graph of a graph-classification set: 0-based undirected edges and node tags."""

    edges: np.ndarray          # [n_edges, 2] int64, each undirected edge once (i <= j)
    tags: np.ndarray           # [n_nodes] int64 discrete node labels
    label: int

    @property
    def n_nodes(self) -> int:
        return int(self.tags.shape[0])

    def adjacency(self) -> sp.csr_matrix:
        n = self.n_nodes
        i, j = self.edges.T if len(self.edges) else (np.zeros(0, int), np.zeros(0, int))
        a = sp.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)).tocsr()
        a = a + a.T - sp.diags(a.diagonal())
        a.data[:] = 1.0
        return a.tocsr()


@dataclasses.dataclass(frozen=True)
class GraphDataset:
    name: str
    graphs: tuple[Graph, ...]
    n_tags: int
    folds: tuple[tuple[np.ndarray, np.ndarray], ...] = ()   # (train, test) graph indices

    @property
    def labels(self) -> np.ndarray:
        return np.array([g.label for g in self.graphs])

    @property
    def n_classes(self) -> int:
        return int(self.labels.max()) + 1
