"""Table 1 (Cora): SIGN with PReLU vs the trainable degree-2 polynomial, node accuracy and
decision-problem accuracy, mean +- std over seeds, the paper's figure beside ours.

    python scripts/reproduce_table1.py [--seeds 10] [--epochs 1000] [--out FILE.json]

Protocol (PAPER.md): R = 5 hops, hidden 512, dropout 0.4, input dropout 0.3, Adam 1e-3, one
full-batch step per epoch, evaluation every 10 epochs, test figures at the best-validation
epoch (decision accuracy at its own best epoch), Planetoid split 140 / 500 / 1000.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from qtnet.data import load_node_dataset
from qtnet.data.features import sign_hops
from qtnet.training.sign_node import SignNodeSettings, run_sign_node

PAPER_POLY_NODE = (78.69, 0.26)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--activations", default="poly,prelu")
    parser.add_argument("--out", default="bench_results/table1.json")
    args = parser.parse_args(argv)

    data = load_node_dataset("cora")
    hops = sign_hops(data, 5)
    results = {}
    for act in args.activations.split(","):
        runs = []
        for seed in range(args.seeds):
            start = time.perf_counter()
            r = run_sign_node(hops, data, SignNodeSettings(activation=act, epochs=args.epochs),
                              seed)
            r["seconds"] = time.perf_counter() - start
            runs.append(r)
            print(f"{act} seed {seed}: node {100 * r['test_acc']:.2f} (epoch {r['epoch']}), "
                  f"decision {100 * r['test_dec']:.2f} ({r['seconds']:.0f} s)", flush=True)
        results[act] = runs
    print(f"\nCora, {args.seeds} seeds, {args.epochs} epochs (mean +- std, %):")
    print(f"{'activation':>10} {'node acc':>14} {'decision acc':>14} {'paper node':>12}")
    for act, runs in results.items():
        node = 100 * np.array([r["test_acc"] for r in runs])
        dec = 100 * np.array([r["test_dec"] for r in runs])
        paper = f"{PAPER_POLY_NODE[0]} +- {PAPER_POLY_NODE[1]}" if act == "poly" else "n/a"
        print(f"{act:>10} {node.mean():>7.2f} +- {node.std():<4.2f} {dec.mean():>7.2f} +- "
              f"{dec.std():<4.2f} {paper:>12}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=1))


if __name__ == "__main__":
    main()
