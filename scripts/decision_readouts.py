"""Table 1's decision-accuracy gap, examined: one SIGN training run (Cora, the paper's
protocol) whose decision problem is read out three ways at every evaluation — raw mean
logits (the paper), mean softmax probabilities, and predicted-class counts — each selected
at its own best validation epoch; plus the raw read-out averaged over all evaluations.

    python scripts/decision_readouts.py poly|prelu SEED

The procedure: :func:`qtnet.experiments.sign_node.decision_readouts`.
"""

from __future__ import annotations

import sys

import numpy as np

from qtnet.data import load_node_dataset
from qtnet.data.features import sign_hops
from qtnet.experiments import SignNodeSettings, best_readouts, decision_readouts


def main(activation: str, seed: int, epochs: int = 1000) -> None:
    data = load_node_dataset("cora")
    rows = decision_readouts(sign_hops(data, 5), data,
                             SignNodeSettings(activation=activation, epochs=epochs), seed)
    out = [activation, seed]
    for name, (epoch, test) in best_readouts(rows).items():
        out += [name, epoch, round(100 * test, 1)]
    out += ["raw averaged", round(100 * np.mean([r["test_raw"] for r in rows]), 1)]
    print(*out, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
