"""Datasets that ship inside the package (Cora, MUTAG) and the data folder for the others."""

from __future__ import annotations

import os
from pathlib import Path

from qtnet.data.planetoid import load_planetoid
from qtnet.data.tu import load_gin_text
from qtnet.data.types import DataError, GraphDataset, NodeDataset

BUNDLED = Path(__file__).parent / "bundled"
PLANETOID = ("cora", "citeseer", "pubmed")


def data_root(root: str | Path | None = None) -> Path:
    """The folder of datasets that do not ship: ``root``, else ``$QTNET_DATA``."""
    if root is None:
        root = os.environ.get("QTNET_DATA")
    if root is None:
        raise DataError("no data folder: pass data_root=... or set QTNET_DATA "
                        "(Cora and MUTAG ship with qtnet and need none)")
    return Path(root)


def load_node_dataset(name: str, root: str | Path | None = None) -> NodeDataset:
    """A Planetoid dataset by name; Cora from the package unless ``root`` is given."""
    key = name.lower()
    if key not in PLANETOID:
        raise DataError(f"unknown node dataset {name!r}; known: {', '.join(PLANETOID)}")
    if key == "cora" and root is None:
        return load_planetoid(BUNDLED / "cora", "cora")
    return load_planetoid(data_root(root) / key, key)


def load_graph_dataset(name: str, root: str | Path | None = None) -> GraphDataset:
    """A GIN-format graph-classification set by folder name; MUTAG from the package."""
    if name.upper() == "MUTAG" and root is None:
        return load_gin_text(BUNDLED / "MUTAG", "MUTAG")
    return load_gin_text(data_root(root) / name, name)
