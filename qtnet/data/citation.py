"""Planetoid citation graphs as node-classification datasets: samples are nodes, features
their SIGN hops ``[n, hops + 1, features]``, and the split is the dataset's own."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from qtnet.config import ConfigError, field
from qtnet.data.bundled import PLANETOID, load_node_dataset
from qtnet.data.dataset import Dataset
from qtnet.data.features import sign_hops
from qtnet.data.registry import register_dataset


@dataclasses.dataclass(frozen=True)
class PlanetoidConfig:
    """``data`` section of a Planetoid graph (``cora``, ``citeseer``, ``pubmed``)."""

    type: str = field("cora", choices=PLANETOID, help="the Planetoid dataset")
    hops: int = field(5, min=0, max=64, help="SIGN hops R: features X, T X, ..., T^R X")
    root: str | None = field(None, help="folder holding <name>/ind.<name>.*; null: Cora "
                                        "from the package, the others from $QTNET_DATA")
    self_loops: bool = field(True, help="T from A + I (true) or from A alone (false: the "
                                        "authors' sign_node_pred.py on Cora)")


def planetoid_dataset(config: PlanetoidConfig) -> Dataset:
    """Hop features (rows sum to 1, as in the paper; not standardised) and the Planetoid
    split (Cora: 140 train / 500 val / 1000 test)."""
    if config.type != "cora" and config.root is None and "QTNET_DATA" not in os.environ:
        raise ConfigError(f"data.root: {config.type} does not ship with qtnet; expected the "
                          f"folder holding {config.type}/ind.{config.type}.* (or set "
                          f"QTNET_DATA), got null")
    graph = load_node_dataset(config.type, config.root)
    x = sign_hops(graph, config.hops, self_loops=config.self_loops)
    y = graph.labels.astype(np.int32)
    return Dataset(config.type, x[graph.train], y[graph.train], x[graph.test], y[graph.test],
                   graph.n_classes, x[graph.val], y[graph.val], graph)


for _name in PLANETOID:
    register_dataset(_name, PlanetoidConfig)(planetoid_dataset)
