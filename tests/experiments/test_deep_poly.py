"""The deep-polynomial demo runs through the trainer's step and loop (a few steps, tiny)."""

import math

from qtnet.experiments.deep_poly import deep_poly_demo


def test_deep_poly_demo_trains_and_reports():
    lines = []
    r = deep_poly_demo(node_qubits=4, layers=1, max_bond=4, steps=3, train_nodes=8,
                       echo=lines.append)
    assert lines[0].startswith("step 3: loss ") and "4 node qubits" in lines[-1]
    assert math.isfinite(r["loss"]) and 0.0 <= r["agreement"] <= 1.0
