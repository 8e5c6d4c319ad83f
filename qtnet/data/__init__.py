"""Every dataset, by name: the trainer's datasets (tables, Planetoid graphs, the synthetic grid)
in one registry, and the graph loaders (Planetoid, TU, OGB, Reddit); Cora and MUTAG ship with
the package (see ``bundled/PROVENANCE.md``)."""

from qtnet.data import citation, cluster_ising, digits, grid, grid_deep  # noqa: F401, I001  (each registers)
from qtnet.data.bundled import data_root, load_graph_dataset, load_node_dataset
from qtnet.data.citation import PlanetoidConfig
from qtnet.data.cluster_ising import ClusterIsingConfig
from qtnet.data.dataset import Dataset
from qtnet.data.grid import GridConfig
from qtnet.data.grid_deep import CircuitDataset, GridDeepConfig
from qtnet.data.ogb import load_ogb_nodeprop, load_reddit
from qtnet.data.planetoid import load_planetoid
from qtnet.data.registry import available_datasets, load_dataset, register_dataset
from qtnet.data.tabular import TableConfig
from qtnet.data.tu import load_gin_text, load_tu
from qtnet.data.types import DataError, Graph, GraphDataset, NodeDataset

__all__ = ["CircuitDataset", "ClusterIsingConfig", "DataError", "Dataset", "Graph",
           "GraphDataset", "GridConfig", "GridDeepConfig", "NodeDataset",
           "PlanetoidConfig", "TableConfig", "available_datasets", "data_root",
           "load_dataset", "load_gin_text", "load_graph_dataset", "load_node_dataset",
           "load_ogb_nodeprop", "load_reddit", "load_planetoid", "load_tu", "register_dataset"]
