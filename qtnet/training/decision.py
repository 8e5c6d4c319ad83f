"""Moved to :mod:`qtnet.experiments.decision`; this alias goes once the tests outside
tests/training (tests/models/test_sign.py) import the new path."""

from qtnet.experiments.decision import decision_accuracy

__all__ = ["decision_accuracy"]
