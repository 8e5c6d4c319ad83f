"""Moved to :mod:`qtnet.experiments.sign_circuit_eval`; this alias goes once
tests/gnn/test_sign_circuit.py imports the new path."""

from qtnet.experiments.sign_circuit_eval import classical_logits, evaluate_sign_circuit

__all__ = ["classical_logits", "evaluate_sign_circuit"]
