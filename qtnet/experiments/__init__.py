"""The paper's experiments, built from the trainer's pieces: Table 1 (SIGN node
classification and the decision problem), Table 2 (SIGN graph classification by CV), and the
circuit evaluation of a trained SIGN (registered as the trainer's ``circuit`` task), and the
decision problem at scale for a trained deep circuit (the ``decision`` task)."""

from qtnet.experiments.decision import READOUTS, decision_accuracy
from qtnet.experiments.deep_decision import DeepDecision, evaluate_decision
from qtnet.experiments.sign_circuit_eval import (CircuitEvaluation, classical_logits,
                                                 evaluate_sign_circuit)
from qtnet.experiments.sign_graph import (PAPER_TABLE2, SignGraphSettings, cross_validate,
                                          load_settings, train_fold)
from qtnet.experiments.sign_node import (SignNodeSettings, best_readouts, decision_readouts,
                                         run_sign_node, train_sign_node)
from qtnet.experiments.table1 import reproduce_table1
from qtnet.experiments.table2 import reproduce_table2

__all__ = [
    "PAPER_TABLE2", "READOUTS", "CircuitEvaluation", "DeepDecision", "evaluate_decision",
    "SignGraphSettings", "SignNodeSettings",
    "best_readouts", "classical_logits", "cross_validate", "decision_accuracy",
    "decision_readouts", "evaluate_sign_circuit", "load_settings", "reproduce_table1",
    "reproduce_table2", "run_sign_node", "train_fold", "train_sign_node",
]
