"""scikit-learn's bundled 8x8 handwritten digits as a table dataset (``data.type: digits``)."""

from __future__ import annotations

import numpy as np

from qtnet.data.registry import register_dataset


@register_dataset("digits")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The UCI optdigits test set: 1797 samples of 64 features, 10 classes."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float64), bunch.target
