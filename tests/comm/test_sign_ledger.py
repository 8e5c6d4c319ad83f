"""The SIGN circuit's report carries its parties' contractions and an estimate-aware crossover."""

import numpy as np
import scipy.sparse as sp

from qtnet.comm import Estimator
from qtnet.comm.crossover import resized, totals_at
from qtnet.gnn.sign_circuit import SignCircuit, SignWeights


def _circuit():
    rng = np.random.default_rng(0)
    t = sp.csr_matrix(np.roll(np.eye(4), 1, axis=1) * 0.5 + np.eye(4) * 0.5)
    w = SignWeights(w=rng.normal(size=(2, 3, 2)), b=rng.normal(size=(2, 2)),
                    coef=rng.normal(size=(2, 3)), w_out=rng.normal(size=(4, 2)),
                    b_out=np.zeros(2))
    return SignCircuit(t, rng.normal(size=(4, 3)), w)


def test_sign_report_has_each_partys_contractions_and_crossover():
    circuit = _circuit()                         # node 2 | hop 1 | feat 2 qubits
    report = circuit.comm_report(Estimator(0.1, 0.05), "nodes", n_estimates=5, max_bond=2)
    kinds = {(c.step, c.party, c.kind) for c in report.contractions}
    assert {(1, "alice", "mpo_application"), (2, "bob", "mpo_application"),
            (3, "bob", "hadamard_product"), (4, "bob", "mpo_application"),
            (5, "bob", "overlap")} <= kinds
    assert report.info["bond_cap"] == 2
    assert {c.bond_out for c in report.contractions if c.kind == "compression"} == {2}
    parties = report.per_party()
    assert parties["alice"]["flops"] > 0 and parties["bob"]["flops"] > 0
    data = report.to_dict()
    hit = data["protocol"]["crossover"]["dense"]
    each = Estimator(0.1, 0.05 / 5)
    k = hit["qubits"] - 3                        # the node register's size there
    below = totals_at(resized(circuit.protocol("nodes"), "node", k), each, 2, 5)
    above = totals_at(resized(circuit.protocol("nodes"), "node", k - 1), each, 2, 5)
    assert below["quantum"] < below["classical"] and above["quantum"] >= above["classical"]
    assert below["quantum"] == hit["quantum"]
    one = circuit.comm_report(Estimator(0.1, 0.05), "nodes", max_bond=2).crossover()
    assert one["dense"]["qubits"] < hit["qubits"]        # 5 estimates need more copies
