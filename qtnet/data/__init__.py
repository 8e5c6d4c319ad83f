"""Graph datasets: Planetoid, TU (GIN text and TU formats), OGB node property prediction,
Reddit; Cora and MUTAG ship with the package (see ``bundled/PROVENANCE.md``)."""

from qtnet.data.bundled import data_root, load_graph_dataset, load_node_dataset
from qtnet.data.ogb import load_ogb_nodeprop, load_reddit
from qtnet.data.planetoid import load_planetoid
from qtnet.data.tu import load_gin_text, load_tu
from qtnet.data.types import DataError, Graph, GraphDataset, NodeDataset

__all__ = ["DataError", "Graph", "GraphDataset", "NodeDataset", "data_root", "load_gin_text",
           "load_graph_dataset", "load_node_dataset", "load_ogb_nodeprop", "load_planetoid",
           "load_reddit", "load_tu"]
