"""Deep polynomial layers trained end to end through the MPS backend: a student with L
degree-2 layers (degree 2^L) learns a teacher of the same form on grid hop features.

    python scripts/deep_poly_demo.py [--node-qubits 12] [--layers 2] [--max-bond 16]
        [--steps 300] [--train-nodes 1024]

The procedure: :mod:`qtnet.experiments.deep_poly`.
"""

from __future__ import annotations

import argparse
import functools

from qtnet.experiments.deep_poly import deep_poly_demo


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-qubits", type=int, default=12)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--max-bond", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--train-nodes", type=int, default=1024)
    parser.add_argument("--learning-rate", type=float, default=0.03)
    args = parser.parse_args(argv)
    deep_poly_demo(node_qubits=args.node_qubits, layers=args.layers, max_bond=args.max_bond,
                   steps=args.steps, train_nodes=args.train_nodes,
                   learning_rate=args.learning_rate, echo=functools.partial(print, flush=True))


if __name__ == "__main__":
    main()
