"""The trainer's batch order: a pure function of ``(seed, step)``, so a resumed run reads
exactly the batches the unbroken run would have."""

from __future__ import annotations

import numpy as np


def batch_indices(seed: int, step: int, batch_size: int, n: int) -> np.ndarray:
    """Indices of the batch read at ``step``: a fresh permutation of ``range(n)`` per epoch,
    seeded by ``(seed, epoch)``, read in order; a batch may straddle two epochs."""
    start = step * batch_size
    positions = np.arange(start, start + batch_size)
    epochs = positions // n
    out = np.empty(batch_size, np.int64)
    for epoch in np.unique(epochs):
        perm = np.random.default_rng([seed, int(epoch)]).permutation(n)
        sel = epochs == epoch
        out[sel] = perm[positions[sel] % n]
    return out
