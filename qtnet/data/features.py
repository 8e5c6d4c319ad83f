"""SIGN hop features: X_k = T^k X for the paper's propagation operator T."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qtnet.data.types import NodeDataset


def sign_operator(adjacency: sp.spmatrix) -> sp.csr_matrix:
    """T: self-loops added, D^{-1/2} (A + I) D^{-1/2}, then each row scaled to sum 1."""
    a = sp.csr_matrix(adjacency, dtype=np.float64) + sp.identity(adjacency.shape[0],
                                                                  format="csr")
    d = np.asarray(a.sum(1)).ravel()
    inv_sqrt = sp.diags(1.0 / np.sqrt(d))
    s = inv_sqrt @ a @ inv_sqrt
    rows = np.asarray(s.sum(1)).ravel()
    return (sp.diags(1.0 / rows) @ s).tocsr()


def sign_hops(dataset: NodeDataset, hops: int, *, normalize_features: bool = True,
              dtype=np.float32) -> np.ndarray:
    """``[n_nodes, hops + 1, n_features]``: X, T X, ..., T^hops X (computed once, sparse T).

    ``normalize_features`` scales every node's feature row to sum 1 (the usual Planetoid
    preprocessing); rows of zeros stay zero.
    """
    x = sp.csr_matrix(dataset.features, dtype=np.float64)
    if normalize_features:
        sums = np.asarray(x.sum(1)).ravel()
        x = sp.diags(np.where(sums > 0, 1.0 / np.where(sums > 0, sums, 1.0), 0.0)) @ x
    t = sign_operator(dataset.adjacency)
    out = np.empty((x.shape[0], hops + 1, x.shape[1]), dtype)
    current = x.toarray()
    for k in range(hops + 1):
        out[:, k] = current
        if k < hops:
            current = t @ current
    return out
