"""The contraction ledger against hand-derived FLOP counts, and its place in the reports."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from qtnet.cli import main
from qtnet.comm import Estimator, meter
from qtnet.comm.ledger import contraction_ledger
from qtnet.parties import (BlockEncoding, Encode, HadamardProduct, Party, Protocol, Readout,
                           Register, Unitary, figure2_protocol)


def _one(n, step, readout=None):
    """Alice encodes, Bob runs ``step`` (if any), Alice reads out."""
    steps = [Encode("alice", "x")] + ([step] if step is not None else [])
    steps.append(readout or Readout("alice", observable="Z0"))
    return Protocol((Party("alice"), Party("bob")), (Register("r", n),), steps)


def _costs(protocol, **kw):
    return {(c.step, c.kind): (c.count, c.flops) for c in
            contraction_ledger(protocol, dtype=kw.pop("dtype", np.float64), **kw)}


# Hand derivations (real arrays; a multiply-add is 2 FLOPs), d = 2.

def test_mps_gate_layer_and_its_compression():
    # n = 4 sites, chi = 2, one brickwork layer from site 0:
    #   single-site layer: 4 sites x 2 chi^2 d^2 = 4 * 2*4*4            = 128
    #   2 pair slots (n // 2), each B B (2 chi^3 d^2 = 64), gate (2 chi^2 d^4 = 128),
    #   new B_i (2 chi^3 d^2 = 64): 2 * 256                               = 512
    #   compression per pair, m = chi d = 4: SVD [4, 4] = min(14*4*16 + 8*64,
    #   6*4*16 + 20*64) = 1408, QR [4, 4] with Q (2*16*8 + 4*64) // 3 = 170: 1578;
    #   2 pairs = 3156
    costs = _costs(_one(4, Unitary("bob", "U", ("r",), 1)), max_bond=2)
    assert costs[(1, "gate_layer")] == (4 + 2, 128 + 512)
    assert costs[(1, "compression")] == (2, 3156)
    # depth 2: twice that (every layer has n // 2 slots, identities included)
    costs = _costs(_one(4, Unitary("bob", "U", ("r",), 2)), max_bond=2)
    assert costs[(1, "gate_layer")] == (12, 1280) and costs[(1, "compression")] == (4, 6312)


def test_mps_mpo_application_hadamard_and_compression():
    # n = 3, chi = 2, MPO bond w = 2: contraction 2 n w^2 chi^2 d^2 = 2*3*4*4*4 = 384
    # compression of bond C = w chi = 4 down to chi = 2:
    #   left sweep, 3 sites: 2 C^3 d = 256 and SVD [8, 4] = min(14*8*16 + 8*64,
    #   6*8*16 + 20*64) = 2048  ->  3 * 2304 = 6912
    #   right sweep, 2 sites: 2 C^2 d chi = 128 and SVD [4, 4] = min(14*64 + 8*64,
    #   6*64 + 20*64) = 1408  ->  2 * 1536 = 3072
    #   edges: 2 C^2 d + 2 d C chi = 64 + 32 = 96;  total 10080 in 2n - 1 = 5 SVDs
    costs = _costs(_one(3, BlockEncoding("bob", "M", ("r",), 1.0)), max_bond=2,
                   operator_bonds={"M": 2})
    assert costs[(1, "mpo_application")] == (3, 384)
    assert costs[(1, "compression")] == (5, 10080)
    # Hadamard product, zipped up at sweep bond X = min(2 chi, chi^2) = 4: per site the carry
    # into both tensors 2 X d a b (a + b) = 2*4*2*2*2*4 = 256 and an SVD [(X d), (a b)] =
    # [8, 4] = 2048  ->  3 * 2304 = 6912 in 3 SVDs; then the compression of bond X = 4 to 2
    costs = _costs(_one(3, HadamardProduct("bob")), max_bond=2)
    assert costs[(1, "hadamard_product")] == (3, 6912)
    assert costs[(1, "compression")] == (5, 10080)


def test_mps_encoding_and_readouts():
    # TT-SVD of 8 amplitudes, chi = 2: SVD [4, 2] = min(14*4*4 + 8*8, 6*4*4 + 20*8) = 256,
    # then SVD [2, 4] = 256; plus two normalisations 6N = 48  ->  560
    # expectation of Z0: n (4 chi^3 d + 2 chi^2 d^2) = 3 * (64 + 32) = 288, plus <psi|psi>
    # and ||psi|| by transfer scans, 2 * 4 n chi^3 d = 384  ->  672
    costs = _costs(_one(3, None), max_bond=2)
    assert costs[(0, "encoding")] == (2, 560)
    # 16 amplitudes, chi = 2, where the cap binds: SVD [8, 2] = min(14*8*4 + 8*8,
    # 6*8*4 + 20*8) = 352; bond 2, SVD [4, 4] = 1408; bond min(2, 4) = 2, SVD [2, 4] = 256;
    # plus 6N = 96  ->  2112
    assert _costs(_one(4, None), max_bond=2)[(0, "encoding")] == (3, 2112)
    assert costs[(1, "expectation")][1] == 672
    # probabilities of 1 qubit: 2 d chi^2 = 16, plus ||psi|| 192
    costs = _costs(_one(3, None, Readout("alice", probabilities=1)), max_bond=2)
    assert costs[(1, "probabilities")][1] == 208
    # overlap with a reference vector: its encoding (560), <ref|psi> and ||ref|| (384)
    costs = _costs(_one(3, None, Readout("alice", reference="ref")), max_bond=2)
    assert costs[(1, "encoding")][1] == 560 and costs[(1, "overlap")][1] == 384


def test_dense_statevector_costs():
    n, N = 3, 8
    # a k-qubit gate on N amplitudes: 2 d^k N. Layer 0: one pair (64) + one single (32);
    # layer 1 (from site 1): one pair + one single again
    costs = _costs(_one(n, Unitary("bob", "U", ("r",), 2)), backend="dense")
    assert costs[(1, "gate_layer")] == (4, 2 * (2 * 4 * N + 2 * 2 * N))
    # the embedded MPO made dense (w = 2): sum_{k=1,2} 2 d^(2k+2) w^2 = 128 + 512, the
    # mat-vec 2 N^2 = 128, the normalisation 3N = 24
    costs = _costs(_one(n, BlockEncoding("bob", "M", ("r",), 1.0)), backend="dense",
                   operator_bonds={"M": 2})
    assert costs[(1, "mpo_application")][1] == 640 + 128 + 24
    costs = _costs(_one(n, HadamardProduct("bob")), backend="dense")
    assert costs[(1, "hadamard_product")][1] == 4 * N
    assert costs[(0, "encoding")][1] == 6 * N
    # <Z0>: one acting site 2 d N = 32, <psi|Z psi> 2N, <psi|psi> and ||psi|| 4N  ->  80
    assert costs[(2, "expectation")][1] == 80


def test_complex_dtype_and_bytes():
    protocol = figure2_protocol(4, 1)
    real = contraction_ledger(protocol, max_bond=2, dtype=np.float64)
    cplx = contraction_ledger(protocol, max_bond=2, dtype=np.complex128)
    single = contraction_ledger(protocol, max_bond=2, dtype=np.float32)
    for r, c, s in zip(real, cplx, single):
        assert c.flops == 4 * r.flops                  # complex multiply-add: 8 real FLOPs
        assert c.bytes == 2 * r.bytes == 4 * s.bytes
    # the gate layer holds the state in and out (2 n chi^2 d) and the 2 pair slots' two
    # [chi d, d chi] blocks: (2 * 4*2*2*2 + 2 * 2 * 16) * 8 bytes
    gate = next(r for r in real if r.kind == "gate_layer")
    assert gate.bytes == (2 * 32 + 2 * 2 * 16) * 8
    # encoding 8 amplitudes at chi = 2: the vector and its normalised copy (2N = 16), the
    # largest SVD ([4, 2] or [2, 4]: 8) and its factors (8), the MPS (n chi^2 d = 24)
    enc = contraction_ledger(figure2_protocol(3, 1), max_bond=2, dtype=np.float64)[0]
    assert enc.kind == "encoding" and enc.bytes == (16 + 16 + 24) * 8


def test_an_odd_register_start_shifts_the_brickwork_by_one_layer():
    protocol = Protocol((Party("a"), Party("b")), (Register("x", 1), Register("y", 3)),
                        [Encode("a", "x"), Unitary("b", "U", ("y",), 1),
                         Readout("a", observable="Z0")])
    (count, flops) = _costs(protocol, max_bond=2)[(1, "gate_layer")]
    assert (count, flops) == (2 * 6, 2 * 640)          # two full-width layers, as the engine


def test_classical_mps_bits_follow_the_bond_profile():
    # n = 4: exact profile [1, 2, 4, 2, 1] -> 1*2*2 + 2*2*4 + 4*2*2 + 2*2*1 = 40 numbers;
    # capped at chi = 2: [1, 2, 2, 2, 1] -> 4 + 8 + 8 + 4 = 24 numbers
    est = Estimator(0.1, 0.05, bits=32)
    exact = meter(figure2_protocol(4, 1), est)
    capped = meter(figure2_protocol(4, 1), est, max_bond=2)
    assert {r["classical_mps_bits"] for r in exact.rows} == {40 * 32}
    assert {r["classical_mps_bits"] for r in capped.rows} == {24 * 32}
    assert "polylogarithmic" in capped.info["classical_mps"]
    assert "polylogarithmic" not in exact.info["classical_mps"]
    at_exact_cap = meter(figure2_protocol(4, 1), est, max_bond=4)      # 2^(n/2): no cap
    assert "polylogarithmic" not in at_exact_cap.info["classical_mps"]
    assert [r["mps_max_bond"] for r in capped.rows] == [2, 2]


def test_report_json_and_csv_carry_the_ledger(tmp_path):
    report = meter(figure2_protocol(4, 2), Estimator(0.1, 0.05, "parameter_shift"),
                   max_bond=2, dtype=np.float64, name="f2")
    data = json.loads(report.to_json(tmp_path / "r.json"))
    assert set(data["contractions"][0]) >= {"step", "party", "kind", "registers", "count",
                                            "flops", "bytes"}
    flops = {p: sum(c["flops"] for c in data["contractions"] if c["party"] == p)
             for p in ("alice", "bob")}
    for p in ("alice", "bob"):
        assert data["parties"][p]["flops"] == flops[p] > 0
        assert data["parties"][p]["contractions"] > 0
    assert data["totals"]["flops"] == flops["alice"] + flops["bob"]
    assert [s["step"] for s in data["steps"]] == list(range(6))
    assert all("classical_mps_bits" in h for h in data["handoffs"])
    assert data["protocol"]["crossover"]["dense"]["qubits"] > 4
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert int(rows[0]["classical_mps_bits"]) == 24 * 32
    table = list(csv.DictReader(io.StringIO(report.contractions_csv())))
    assert len(table) == len(data["contractions"])
    assert {r["kind"] for r in table} == {"encoding", "gate_layer", "compression",
                                          "expectation"}


def test_comm_report_command_prices_a_backend(tmp_path, capsys):
    cfg = str(Path(__file__).resolve().parents[2] / "configs" / "comm" / "figure2.yaml")
    assert main(["comm-report", "--config", cfg, "--set", "qubits=6", "--set", "layers=1",
                 "--backend", "dense", "--json", "--out", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["protocol"]["backend"] == "dense" and data["totals"]["flops"] > 0
    assert data["protocol"]["bond_cap"] is None
    assert (tmp_path / "comm_contractions.csv").stat().st_size > 0
    assert main(["comm-report", "--config", cfg, "--max-bond", "8"]) == 0
    out = capsys.readouterr().out
    assert "compute per run" in out and "crossover:" in out
    # 4096 qubits: counts beyond a float's range print as ~2^k, not an OverflowError
    assert main(["comm-report", "--config", cfg, "--set", "qubits=4096"]) == 0
    assert "bits classical" in capsys.readouterr().out
    assert main(["comm-report", "--config", cfg, "--max-bond", "0"]) == 2
    assert "--max-bond must be a positive integer" in capsys.readouterr().err


def test_bad_ledger_arguments():
    with pytest.raises(ValueError, match="max_bond must be a positive integer"):
        contraction_ledger(figure2_protocol(4, 1), max_bond=0)
    with pytest.raises(ValueError, match="unknown backend|valid"):
        contraction_ledger(figure2_protocol(4, 1), backend="peps")
