"""The paper's decision problem: from the mean logits over a node set, decide for every class
pair i < j whether class i has more nodes in the set than class j."""

from __future__ import annotations

import numpy as np


def decision_accuracy(logits: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """Fraction of the C(C-1)/2 class pairs answered right: predict [zbar_i - zbar_j > 0]
    (raw mean logits over the set), truth [count(i) > count(j)] (a tie is "no")."""
    logits, labels = np.asarray(logits), np.asarray(labels)
    mean = logits.mean(0)
    counts = np.bincount(labels, minlength=n_classes)
    i, j = np.triu_indices(n_classes, k=1)
    return float(np.mean((mean[i] - mean[j] > 0) == (counts[i] > counts[j])))
