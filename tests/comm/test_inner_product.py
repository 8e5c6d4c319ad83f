"""The classical protocol for linear models (inner-product sketch) against the quantum one."""

import json
import math
from pathlib import Path

import pytest

from qtnet.cli import main
from qtnet.comm import Estimator, meter
from qtnet.comm.inner_product import inner_product_protocol, is_linear, sketch_bits
from qtnet.parties import chain_protocol, figure2_protocol, linear_protocol

ROOT = Path(__file__).resolve().parents[2]


def test_sketch_bits_by_hand():
    # ceil(pi^2 ln(2K/delta) / (2 eps^2)): eps 0.05, delta 0.05, K 10 -> 9.8696 * 5.99146 / 0.005
    assert sketch_bits(0.05, 0.05, 10) == 11827
    # K 1, eps 0.1, delta 0.1: 9.8696 * ln 20 / 0.02 = 1478.4
    assert sketch_bits(0.1, 0.1) == 1479
    with pytest.raises(ValueError, match="classes must be >= 1"):
        sketch_bits(0.1, 0.1, 0)


def test_linear_protocol_is_metered_against_the_sketch():
    report = meter(linear_protocol(20), Estimator(0.05, 0.05), estimates=10)
    (row,) = report.rows                         # one hand-off, loss only (no angles)
    # per class m = ceil(2 ln(2 * 10 / 0.05) / 0.05^2) = ceil(800 ln 400) = 4794
    assert (row["from"], row["to"], row["copies"]) == ("alice", "bob", 47940)
    assert row["quantum_qubits"] == 20 * 47940
    linear = report.info["classical_inner_product"]
    assert linear["bits"] == 11827 and linear["classes"] == 10
    assert row["quantum_qubits"] / linear["bits"] == pytest.approx(4 * 20 * 10 / math.pi**2,
                                                                    rel=1e-3)


def test_no_exponential_gap_as_n_grows():
    est = Estimator(0.05, 0.05)
    q = {n: meter(linear_protocol(n), est).totals()["quantum_qubits"] for n in (10, 20, 40)}
    bits = meter(linear_protocol(40), est).info["classical_inner_product"]["bits"]
    assert q[20] == 2 * q[10] and q[40] == 2 * q[20]        # linear in n = log2 N
    assert bits == meter(linear_protocol(10), est).info["classical_inner_product"]["bits"]
    assert q[40] / bits < 40                                  # not 2^40 / 40


def test_only_inner_product_protocols_are_linear():
    assert is_linear(linear_protocol(4))
    assert not is_linear(figure2_protocol(4, 1))              # Pauli readout, two hand-offs
    assert not is_linear(chain_protocol(["a", "b", "c"], 4))
    assert inner_product_protocol(figure2_protocol(4, 1), Estimator()) is None
    assert "classical_inner_product" not in meter(figure2_protocol(4, 1), Estimator()).info


def test_comm_report_linear_config(capsys):
    cfg = str(ROOT / "configs" / "comm" / "linear.yaml")
    assert main(["comm-report", "--config", cfg, "--json", "--set", "qubits=8"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["protocol"]["classical_inner_product"]["bits"] == 11827
    assert data["totals"]["quantum_qubits"] == 8 * 47940
    assert main(["comm-report", "--config", cfg, "--set", "classes=0"]) == 2
    assert "classes" in capsys.readouterr().err
