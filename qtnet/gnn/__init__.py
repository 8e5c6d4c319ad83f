"""Polynomial GNNs as circuits: SIGN's circuit form, and graphs built directly as MPOs."""

from qtnet.gnn.sign_circuit import SignCircuit, SignWeights

__all__ = ["SignCircuit", "SignWeights"]
