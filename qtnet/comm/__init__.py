"""Communication metering: copy counts, the hand-off and contraction ledgers, shot emulation."""

from qtnet.comm.crossover import crossover
from qtnet.comm.estimators import (GRADIENTS, Estimator, distribution_copies,
                                   hoeffding_copies, parameter_shift_copies, shadow_copies)
from qtnet.comm.ledger import Contraction, contraction_ledger
from qtnet.comm.meter import CommReport, copies_per_purpose, meter, readout_scale
from qtnet.comm.shots import (distribution_shots, hadamard_test_shots,
                              parameter_shift_gradient, pauli_shots, shot_estimate,
                              shot_value_and_grad)

__all__ = [
    "GRADIENTS", "CommReport", "Contraction", "Estimator", "contraction_ledger",
    "copies_per_purpose", "crossover", "distribution_copies", "distribution_shots",
    "hadamard_test_shots", "hoeffding_copies", "meter", "parameter_shift_copies",
    "parameter_shift_gradient", "pauli_shots", "readout_scale", "shadow_copies",
    "shot_estimate", "shot_value_and_grad",
]
