"""The reported crossover: the quantum total is below the classical one at N, not at N / 2."""

import pytest

from qtnet.comm import Estimator, meter
from qtnet.comm.crossover import crossover, resized
from qtnet.parties import (BlockEncoding, Encode, HadamardProduct, Party, Protocol, Readout,
                           Register, figure2_protocol)


def _totals(protocol, estimator, max_bond):
    t = meter(protocol, estimator, max_bond=max_bond).totals()
    return t["quantum_qubits"], t["classical_bits"], t["classical_mps_bits"]


@pytest.mark.parametrize("gradient, max_bond", [("none", None), ("parameter_shift", 16),
                                                ("shadow", None)])
def test_figure2_crossover_is_the_first_size_below(gradient, max_bond):
    protocol = figure2_protocol(6, 2, depth=2)
    est = Estimator(0.05, 0.05, gradient)
    result = crossover(protocol, est, max_bond=max_bond)
    hit = result["dense"]
    q, c, _ = _totals(figure2_protocol(hit["qubits"], 2, depth=2), est, max_bond)
    assert q < c and (q, c) == (hit["quantum"], hit["classical"])
    q, c, _ = _totals(figure2_protocol(hit["qubits"] - 1, 2, depth=2), est, max_bond)
    assert q >= c
    if max_bond is not None:                  # a capped MPS message: polylog, never beaten
        assert result["mps"] is None and "polylogarithmic" in result["note"]


def test_crossover_holds_the_sub_normalisations_and_skips_sizes_that_do_not_fit():
    """Alpha = 3 squared by the Hadamard product: 81x the copies of alpha = 1; the node
    register grows, the feature register stays; an observable on site 5 needs 6 qubits."""
    def protocol(alpha):
        return Protocol((Party("alice"), Party("bob")),
                        (Register("node", 8), Register("feat", 2)),
                        [Encode("alice", "x"), BlockEncoding("bob", "W", ("feat",), alpha),
                         HadamardProduct("bob"), Readout("alice", observable="Z5")])

    est = Estimator(0.1, 0.05)
    one, three = crossover(protocol(1.0), est), crossover(protocol(3.0), est)
    assert one["register"] == "node"
    assert three["dense"]["qubits"] > one["dense"]["qubits"]
    for result, alpha in ((one, 1.0), (three, 3.0)):
        k = result["dense"]["qubits"] - 2
        q, c, _ = _totals(resized(protocol(alpha), "node", k), est, None)
        assert q < c
        if k - 1 >= 4:                                 # node register of 4 holds Z5 with feat
            q, c, _ = _totals(resized(protocol(alpha), "node", k - 1), est, None)
            assert q >= c
