"""Tables of samples: a loader's ``(x, y)`` arrays, split stratified and standardised once."""

from __future__ import annotations

import dataclasses

import numpy as np

from qtnet.config import field
from qtnet.data.dataset import Dataset


@dataclasses.dataclass(frozen=True)
class TableConfig:
    """``data`` section of a table dataset (``digits``, or any registered ``(x, y)`` loader)."""

    type: str = field("digits", help="dataset name (qtnet.data.available_datasets())")
    test_fraction: float = field(0.25, min=0.05, max=0.95,
                                 help="share of each class held out for testing")
    split_seed: int = field(0, min=0, help="seeds the stratified train / test split")
    standardize: bool = field(True, help="zero-mean, unit-variance features (train statistics)")
    val_fraction: float = field(0.0, min=0.0, max=0.5,
                                help="share of each class of the training split held out for "
                                     "validation (0: none); the test split is unchanged")


def stratified_split(y: np.ndarray, test_fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` indices: ``test_fraction`` of each class (at least one) to test."""
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test.extend(idx[: max(1, round(test_fraction * len(idx)))])
    mask = np.zeros(len(y), bool)
    mask[test] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def table_dataset(name: str, x: np.ndarray, y: np.ndarray, config: TableConfig) -> Dataset:
    """Split ``x [n, features]``, ``y [n]`` (stratified, by ``split_seed``); labels mapped to
    ``0..C-1``; features standardised with the training split's statistics if asked.

    With ``val_fraction`` > 0 a validation split is then carved from the training split
    (stratified, seeded by ``split_seed``); the test split is the one ``val_fraction = 0``
    gives, and the statistics are the remaining training rows'."""
    _, y = np.unique(y, return_inverse=True)
    train, test = stratified_split(y, config.test_fraction, config.split_seed)
    val = None
    if config.val_fraction > 0:
        # A second stream of the same seed: the test split does not move.
        rng_seed = np.random.SeedSequence([config.split_seed, 1]).generate_state(1)[0]
        keep, held = stratified_split(y[train], config.val_fraction, int(rng_seed))
        train, val = train[keep], train[held]
    x_train, x_test = x[train], x[test]
    x_val = x[val] if val is not None else None
    if config.standardize:
        mean, std = x_train.mean(0), x_train.std(0)
        std = np.where(std > 0, std, 1.0)
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
        x_val = (x_val - mean) / std if x_val is not None else None
    return Dataset(name, x_train.astype(np.float32), y[train].astype(np.int32),
                   x_test.astype(np.float32), y[test].astype(np.int32), int(y.max()) + 1,
                   x_val=None if val is None else x_val.astype(np.float32),
                   y_val=None if val is None else y[val].astype(np.int32))
