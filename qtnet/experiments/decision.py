"""The paper's decision problem: from the mean logits over a node set, decide for every class
pair i < j whether class i has more nodes in the set than class j."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def decision_accuracy(logits: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """Fraction of the C(C-1)/2 class pairs answered right: predict [zbar_i - zbar_j > 0]
    (raw mean logits over the set), truth [count(i) > count(j)] (a tie is "no")."""
    logits, labels = np.asarray(logits), np.asarray(labels)
    mean = logits.mean(0)
    counts = np.bincount(labels, minlength=n_classes)
    i, j = np.triu_indices(n_classes, k=1)
    return float(np.mean((mean[i] - mean[j] > 0) == (counts[i] > counts[j])))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


# What the decision problem averages over the set: the raw logits (the paper), the softmax
# probabilities, or one-hot predicted classes (counts).
READOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "raw": lambda z: z,
    "softmax": _softmax,
    "counts": lambda z: np.eye(z.shape[1])[z.argmax(1)],
}
