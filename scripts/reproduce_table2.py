"""Table 2 (graph classification): the paper's SIGN graph model with a trainable degree-2
polynomial on the TU datasets, 10-fold CV, the paper's figure beside ours.

    python scripts/reproduce_table2.py --data ../shared/data [--datasets MUTAG,PTC]
        [--folds 10] [--epochs 350] [--out bench_results/table2.json]
    python scripts/reproduce_table2.py --config configs/tu/MUTAG.yaml [--set hidden=32]
    python scripts/reproduce_table2.py --as-authors --datasets MUTAG,PTC   # the authors' code

Protocol: PAPER.md; hyperparameters: ``configs/tu/<dataset>.yaml`` (the paper's Table 2).
``--as-authors`` (hmichaeli/quantum_gnns, sign_graph_pred.py): hidden width hidden x (R + 1)
and PyTorch's default Linear init (``--set hidden_times_blocks=true --set init=torch``).
Results are written after every dataset, so an interrupted run keeps what it finished.
The procedure: :mod:`qtnet.experiments.table2`.
"""

from __future__ import annotations

import argparse
import functools

from qtnet.experiments.table2 import AS_AUTHORS, DEFAULT_DATASETS, TU_CONFIGS, reproduce_table2


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data folder (default: $QTNET_DATA)")
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS),
                        help=f"names of files in {TU_CONFIGS}")
    parser.add_argument("--config", action="append", default=[],
                        help="settings file(s); replaces --datasets")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting of every run")
    parser.add_argument("--as-authors", action="store_true",
                        help="hidden x (R + 1) width, torch init (the authors' code)")
    parser.add_argument("--folds", type=int, default=10, help="how many of the 10 folds")
    parser.add_argument("--epochs", type=int, default=None, help="override every config's")
    parser.add_argument("--out", default="bench_results/table2.json")
    args = parser.parse_args(argv)
    files = args.config or [TU_CONFIGS / f"{name}.yaml" for name in args.datasets.split(",")]
    overrides = (list(AS_AUTHORS) if args.as_authors else []) + args.set
    reproduce_table2(files, data_root=args.data, overrides=overrides, folds=args.folds,
                     epochs=args.epochs, out=args.out, args=vars(args),
                     echo=functools.partial(print, flush=True))


if __name__ == "__main__":
    main()
