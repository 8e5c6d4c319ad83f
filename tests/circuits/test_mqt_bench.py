"""The committed MQT Bench circuits (benchmarks/mqt_bench, written by
scripts/generate_mqt_bench.py) give qiskit-aer's exact <Z_0> on the MPS, in complex128, and
Grover keeps quimb's bond (2) with the default cutoff."""

import json
from pathlib import Path

import jax
import pytest

from qtnet.circuits import from_qasm_file

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "mqt_bench"
SMALL = ("qftentangled_8.qasm", "ae_8.qasm", "vqe_real_amp_8.qasm", "randomcircuit_8.qasm",
         "grover_8.qasm")


@pytest.fixture(scope="module")
def manifest():
    with open(SUITE / "manifest.json") as f:
        return json.load(f)["circuits"]


@pytest.mark.parametrize("name", SMALL)
def test_mqt_circuit_equals_the_exact_value(manifest, name):
    assert jax.config.jax_enable_x64
    circuit = from_qasm_file(SUITE / name)
    assert (circuit.n_qubits, len(circuit)) == (manifest[name]["qubits"],
                                                 manifest[name]["gates"])
    result = circuit.simulate("Z0", backend="mps")
    assert result.value == pytest.approx(manifest[name]["exact_z0"], abs=1e-10)
    assert result.fidelity_estimate == pytest.approx(1.0, abs=1e-12)
    if name.startswith("grover"):
        assert result.max_bond_used == 2            # quimb's CircuitMPS: 2
