"""The ledger of the Figure 2 protocol against hand-derived formulas, and the report formats."""

import csv
import io
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qtnet.comm import Estimator, meter
from qtnet.parties import (BlockEncoding, Encode, HadamardProduct, Party, Protocol, Readout,
                           Register, figure2_protocol)


@given(layers=st.integers(1, 6), n=st.integers(2, 30), depth=st.integers(1, 4),
       eps=st.floats(1e-3, 0.5), delta=st.floats(1e-6, 0.5),
       bits=st.sampled_from([16, 32, 64]))
def test_figure2_ledger_matches_the_hand_derived_formulas(layers, n, depth, eps, delta, bits):
    protocol = figure2_protocol(n, layers, depth=depth)          # readout Z0: ||O||_1 = 1
    m = math.ceil(2 * math.log(2 / delta) / eps**2)
    p = 2 * layers * depth * n                                    # RY angles, all unitaries
    m_ps = 2 * p * math.ceil(2 * math.log(4 * p / delta) / eps**2)
    k, p_l = 2 * layers, depth * n
    m_sh = k * math.ceil(max(1.0, math.log2(p_l)) ** 2 * n * math.log(2 * k / delta) / eps**4)
    for gradient, m_grad in (("none", None), ("parameter_shift", m_ps), ("shadow", m_sh)):
        report = meter(protocol, Estimator(eps, delta, gradient, bits))
        loss = [r for r in report.rows if r["purpose"] == "loss"]
        assert len(loss) == 2 * layers                            # 2L hand-offs per copy
        assert [(r["from"], r["to"]) for r in loss] == [("alice", "bob"), ("bob", "alice")] * layers
        assert all(r["qubits_per_copy"] == n and r["copies"] == m for r in loss)
        assert all(r["quantum_qubits"] == n * m == r["holevo_bits"] for r in loss)
        assert all(r["classical_bits"] == 2**n * bits for r in loss)
        totals = report.totals()
        if m_grad is None:
            assert totals["quantum_qubits"] == 2 * layers * n * m
            assert totals["classical_bits"] == 2 * layers * 2**n * bits
        else:
            grad = [r for r in report.rows if r["purpose"] == "gradient"]
            assert all(r["copies"] == m_grad for r in grad)
            assert totals["quantum_qubits"] == 2 * layers * n * (m + m_grad)
            assert totals["classical_bits"] == 4 * layers * 2**n * bits
        assert totals["sim_bytes"] == 0


def test_block_encodings_and_hadamard_products_scale_the_copies():
    alpha = 3.0
    protocol = Protocol((Party("alice"), Party("bob")), (Register("r", 3),),
                        [Encode("alice", "x"), BlockEncoding("bob", "M", ("r",), alpha),
                         HadamardProduct("alice"), Readout("alice", [(0.5, "Z0"), (-1.5, "X1")])])
    eps, delta = 0.1, 0.01
    scale = 2.0 * (alpha**2) ** 2                                 # ||O||_1 * (alpha^2)^2
    m = math.ceil(2 * math.log(2 / delta) * scale**2 / eps**2)
    rows = meter(protocol, Estimator(eps, delta)).rows
    assert [(r["from"], r["to"], r["copies"]) for r in rows] == [
        ("alice", "bob", 2 * m), ("bob", "alice", 2 * m)]         # both copies cross twice


def test_report_outputs(tmp_path):
    report = meter(figure2_protocol(4, 2), Estimator(0.1, 0.05, "parameter_shift"), name="f2")
    data = json.loads(report.to_json(tmp_path / "r.json"))
    assert set(data["totals"]) >= {"quantum_qubits", "classical_bits", "sim_bytes"}
    assert set(data["handoffs"][0]) >= {"step", "from", "to", "qubits_per_copy", "copies",
                                        "quantum_qubits", "classical_bits", "sim_bytes",
                                        "holevo_bits"}
    rows = list(csv.DictReader(io.StringIO(report.to_csv(tmp_path / "r.csv"))))
    assert len(rows) == 8 and rows[0]["registers"] == "data"
    assert report.plot(tmp_path / "r.png").stat().st_size > 0
    parties = report.per_party()
    assert parties["alice"]["sent_qubits"] == parties["bob"]["received_qubits"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(epsilon=0.0), "epsilon must be > 0"), (dict(epsilon=-1), "epsilon must be > 0"),
    (dict(delta=0.0), r"delta must be in \(0, 1\)"), (dict(delta=1.0), r"delta must be in"),
    (dict(gradient="adjoint"), "gradient must be one of none, parameter_shift, shadow"),
    (dict(bits=0), "bits must be a positive integer"),
])
def test_bad_estimators_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Estimator(**kwargs)


def test_class_register_readout_counts_every_outcome():
    """A classifier reads the distribution of k class qubits: all 2^k probabilities to +-eps."""
    n, layers, depth, k, eps, delta = 6, 2, 3, 4, 0.05, 0.05
    protocol = figure2_protocol(n, layers, depth=depth, class_qubits=k)
    p = 2 * layers * depth * n
    m = math.ceil(math.log(2 * 2**k / delta) / (2 * eps**2))
    m_ps = 2 * p * math.ceil(math.log(2 * 2**k * 2 * p / delta) / (2 * eps**2))
    report = meter(protocol, Estimator(eps, delta, "parameter_shift"))
    assert {r["purpose"]: r["copies"] for r in report.rows} == {"loss": m, "gradient": m_ps}
    assert report.totals()["quantum_qubits"] == 2 * layers * n * (m + m_ps)
