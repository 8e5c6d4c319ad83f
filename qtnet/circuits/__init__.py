"""Circuits on either backend, and OpenQASM 2.0 and 3 import."""

from qtnet.circuits.circuit import (BACKENDS, Circuit, Operation, SimulationResult, default_cutoff,
                                    expectation, run)
from qtnet.circuits.qasm import QasmError, from_qasm, from_qasm_file

__all__ = ["BACKENDS", "Circuit", "Operation", "QasmError", "SimulationResult", "default_cutoff",
           "expectation", "from_qasm", "from_qasm_file", "run"]
