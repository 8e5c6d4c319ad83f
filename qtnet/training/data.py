"""Datasets by name, split and standardised once, and a batch order that is a pure function of
``(seed, step)`` so that a resumed run reads exactly the batches the unbroken run would have.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from qtnet.config import BackendConfig, ConfigError, DataConfig
from qtnet.data.types import NodeDataset


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray        # [n_train, n_features]
    y_train: np.ndarray        # [n_train] int32
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    # A validation split, when the dataset has one: then "eval" metrics (and the best
    # checkpoint) come from it, and the test split is reported beside them.
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    graph: NodeDataset | None = None     # node datasets: the graph behind the samples
    info: dict = dataclasses.field(default_factory=dict)   # how it was built (summary.json)

    @property
    def n_features(self) -> int:
        """Width of the last axis (node datasets: [n, hops + 1, features])."""
        return int(self.x_train.shape[-1])

    def describe(self) -> str:
        val = f" / {len(self.y_val)} val" if self.y_val is not None else ""
        extra = "".join(f"; {k} {v}" for k, v in self.info.items())
        return (f"{self.name}: {len(self.y_train)} train{val} / {len(self.y_test)} test, "
                f"{self.n_features} features, {self.n_classes} classes{extra}")


_LOADERS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {}


def register_dataset(name: str):
    """Decorator: register ``loader() -> (x [n, features], y [n])`` (no downloads)."""
    def wrap(loader):
        _LOADERS[name] = loader
        return loader
    return wrap


# Node-classification graphs: samples are nodes, features their SIGN hops T^k X, and the
# split is the dataset's own (Planetoid: 140 / 500 / 1000 for Cora).
NODE_DATASETS = ("cora", "grid")


def available_datasets() -> list[str]:
    return sorted([*_LOADERS, *NODE_DATASETS])


def load_node_classification(config: DataConfig, backend: BackendConfig | None = None
                              ) -> Dataset:
    """Cora (bundled) with hop features ``[n, hops + 1, features]`` (rows sum to 1, as in
    the paper; ``standardize`` does not apply), or the synthetic ``grid``."""
    if config.name == "grid":
        from qtnet.gnn.teacher import grid_teacher_dataset

        return grid_teacher_dataset(config, backend or BackendConfig(max_bond=32))
    from qtnet.data import load_node_dataset
    from qtnet.data.features import sign_hops

    graph = load_node_dataset(config.name)
    x = sign_hops(graph, config.hops)
    y = graph.labels.astype(np.int32)
    return Dataset(config.name, x[graph.train], y[graph.train], x[graph.test], y[graph.test],
                   graph.n_classes, x[graph.val], y[graph.val], graph)


@register_dataset("digits")
def _digits():
    """scikit-learn's bundled 8x8 handwritten digits (UCI optdigits test set; 1797 samples)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float64), bunch.target


def _stratified_split(y: np.ndarray, test_fraction: float, seed: int):
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test.extend(idx[: max(1, round(test_fraction * len(idx)))])
    mask = np.zeros(len(y), bool)
    mask[test] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def load_dataset(config: DataConfig, backend: BackendConfig | None = None) -> Dataset:
    """Load, split (stratified, by ``split_seed``) and optionally standardise a dataset."""
    if config.name in NODE_DATASETS:
        return load_node_classification(config, backend)
    if config.name not in _LOADERS:
        raise ConfigError(f"data.name: unknown dataset {config.name!r}; valid datasets: "
                          f"{', '.join(available_datasets())}")
    x, y = _LOADERS[config.name]()
    _, y = np.unique(y, return_inverse=True)
    train, test = _stratified_split(y, config.test_fraction, config.split_seed)
    x_train, x_test = x[train], x[test]
    if config.standardize:
        mean, std = x_train.mean(0), x_train.std(0)
        std = np.where(std > 0, std, 1.0)
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return Dataset(config.name, x_train.astype(np.float32), y[train].astype(np.int32),
                   x_test.astype(np.float32), y[test].astype(np.int32), int(y.max()) + 1)


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
