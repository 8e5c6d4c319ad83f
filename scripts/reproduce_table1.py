"""Table 1 (Cora): SIGN with PReLU vs the trainable degree-2 polynomial, node accuracy and
decision-problem accuracy, mean +- std over seeds, the paper's figure beside ours.

    python scripts/reproduce_table1.py [--seeds 10] [--epochs 1000] [--out FILE.json]

Protocol (PAPER.md): R = 5 hops, hidden 512, dropout 0.4, input dropout 0.3, Adam 1e-3, one
full-batch step per epoch, evaluation every 10 epochs, test figures at the best-validation
epoch (decision accuracy at its own best epoch), Planetoid split 140 / 500 / 1000.
The procedure: :mod:`qtnet.experiments.table1`.
"""

from __future__ import annotations

import argparse
import functools

from qtnet.experiments import reproduce_table1


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--activations", default="poly,prelu")
    parser.add_argument("--out", default="bench_results/table1.json")
    args = parser.parse_args(argv)
    reproduce_table1(seeds=args.seeds, epochs=args.epochs,
                     activations=tuple(args.activations.split(",")), out=args.out,
                     echo=functools.partial(print, flush=True))


if __name__ == "__main__":
    main()
