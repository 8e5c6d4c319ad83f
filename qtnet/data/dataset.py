"""The trainer-facing dataset: split arrays of samples and labels, and how they were built."""

from __future__ import annotations

import dataclasses

import numpy as np

from qtnet.data.types import NodeDataset


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train / test (and optionally validation) splits of one dataset, ready for the trainer.

    Samples are ``[n, *sample_shape]``: ``[n, features]`` for a table, ``[n, hops + 1,
    features]`` for the nodes of a graph (their SIGN hops). Labels are ``[n]`` int32.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
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

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample: ``(features,)`` or ``(hops + 1, features)``."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    def describe(self) -> str:
        """One line: split sizes, features, classes and how the data was built."""
        val = f" / {len(self.y_val)} val" if self.y_val is not None else ""
        extra = "".join(f"; {k} {v}" for k, v in self.info.items())
        return (f"{self.name}: {len(self.y_train)} train{val} / {len(self.y_test)} test, "
                f"{self.n_features} features, {self.n_classes} classes{extra}")
