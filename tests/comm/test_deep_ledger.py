"""The deep circuit's ledger (qtnet.comm.deep_ledger): its records follow the circuit's
operations, its counts are the hand-derived formulas, and the trainer logs them per step."""

import pytest

from qtnet.comm.deep_ledger import (deep_sign_handoff, deep_sign_ledger, ledger_table,
                                    per_step_flops)


def test_records_follow_the_circuit_and_count_by_hand():
    n, chi, w, batch, classes = 4, 2, 3, 5, 2
    records = deep_sign_ledger(n_sites=n, layers=2, weight_bond=w, max_bond=chi, batch=batch,
                               n_classes=classes, hops=3, propagation_bond=9)
    kinds = [(r.step, r.party, r.kind) for r in records]
    alice = [("mpo_application", 0), ("compression", 0)] * 3
    assert [(k, s) for s, p, k in kinds if p == "Alice"] == alice
    layer = ["mpo_application", "compression", "hadamard_product", "compression",
             "compression", "compression"]
    assert [k for s, p, k in kinds if s == 1] == layer
    assert [k for s, p, k in kinds if s == 3] == ["mpo_application", "compression"]
    read = records[-1]
    assert (read.step, read.kind, read.count) == (4, "overlap", batch * classes)
    # <b|psi> per site: env [2] through [2, 2, 2] (2 * 4 * 2) plus the bra's vector (2 * 2 * 2)
    assert read.flops == batch * classes * n * (16 + 8)
    mpo = records[6]                  # layer 1's W: 2 n w^2 chi^2 d^2 = 2 * 4 * 9 * 4 * 4
    assert (mpo.kind, mpo.flops, mpo.bond_out) == ("mpo_application", 1152, w * chi)
    hadamard = records[8]             # sweep bond min(2 chi, chi^2) = 4: n (contract + SVD)
    svd_8x4 = min(14 * 8 * 16 + 8 * 64, 6 * 8 * 16 + 20 * 64)
    assert hadamard.flops == n * (2 * 4 * 2 * 2 * 2 * (2 + 2) + svd_8x4)
    flops = per_step_flops(records)
    assert set(flops) == {"Bob"}      # Alice's hop state is built once per run
    assert flops["Bob"] == sum(r.flops for r in records if r.party == "Bob")


def test_handoff_is_polylogarithmic_as_an_mps_and_says_so():
    h = deep_sign_handoff(n_sites=37, layers=3, max_bond=8, bits=32)
    assert h["copies_per_readout"] == 8 and h["quantum_qubits"] == 37 * 8
    assert h["classical_bits"] == 2**37 * 32
    profile = [min(8, 2 ** min(b, 37 - b)) for b in range(38)]
    assert h["classical_mps_bits"] == 32 * sum(a * 2 * b for a, b in zip(profile, profile[1:]))
    text = ledger_table(deep_sign_ledger(n_sites=37, layers=3, weight_bond=4, max_bond=8,
                                         batch=2, n_classes=4), h)
    assert "total Bob" in text and "polylogarithmic" in text


@pytest.mark.parametrize("kw", [{"layers": 0}, {"max_bond": 0}, {"batch": 0}, {"hops": -1}])
def test_bad_sizes_are_refused(kw):
    args = dict(n_sites=5, layers=1, weight_bond=2, max_bond=2, batch=1, n_classes=2) | kw
    with pytest.raises(ValueError, match="deep circuit's ledger"):
        deep_sign_ledger(**args)
