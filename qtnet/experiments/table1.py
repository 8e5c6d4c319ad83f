"""Table 1 (Cora): SIGN with PReLU vs the trainable degree-2 polynomial, node and decision
accuracy over seeds, printed beside the paper's figure (``scripts/reproduce_table1.py``).

``AS_AUTHORS`` are the settings of the authors' code (``sign_node_pred.py`` in
hmichaeli/quantum_gnns) where it differs from qtnet's defaults: T from A without self-loops,
PyTorch's default ``Linear`` initialisation, one PReLU slope per hop.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from qtnet.data import load_node_dataset
from qtnet.data.features import sign_hops
from qtnet.experiments.sign_node import SignNodeSettings, run_sign_node

PAPER_POLY_NODE = (78.69, 0.26)
AS_AUTHORS = {"self_loops": False, "init": "torch", "prelu": "per_hop"}


def reproduce_table1(*, seeds: int = 10, first_seed: int = 0, epochs: int = 1000,
                     activations: tuple[str, ...] = ("poly", "prelu"),
                     self_loops: bool = True, init: str = "lecun", prelu: str = "per_unit",
                     out: str | Path | None = None, echo=print) -> dict[str, list[dict]]:
    """Run every (activation, seed) on Cora and print the table.

    Args:
      seeds: run seeds ``first_seed .. seeds - 1`` per activation.
      first_seed: the first seed (a later one finishes an interrupted run into another
        file).
      epochs: epochs per run (the paper: 1000).
      activations: ``poly`` and/or ``prelu``.
      self_loops: T from A + I (True) or from A (the authors' code).
      init: the model's initialisation (:class:`~qtnet.models.sign.SIGN`).
      prelu: the model's PReLU slopes, ``per_unit`` or ``per_hop``. ``**AS_AUTHORS`` gives
        the authors' settings of these three.
      out: JSON file for the per-run results, rewritten after every run (``None``: not
        written).

    Returns:
      Per activation, one :func:`run_sign_node` result per seed (plus its ``seconds``).
    """
    data = load_node_dataset("cora")
    hops = sign_hops(data, 5, self_loops=self_loops)
    base = SignNodeSettings(epochs=epochs, init=init, prelu=prelu)
    results = {act: [] for act in activations}
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
    args = {"seeds": seeds, "first_seed": first_seed, "epochs": epochs,
            "activations": ",".join(activations), "self_loops": self_loops, "init": init,
            "prelu": prelu, "out": str(out)}
    # seed by seed, every activation: an interrupted run leaves paired seeds, all written
    for seed in range(first_seed, seeds):
        for act in activations:
            start = time.perf_counter()
            r = run_sign_node(hops, data, dataclasses.replace(base, activation=act), seed)
            r["seconds"] = time.perf_counter() - start
            results[act].append(r)
            echo(f"{act} seed {seed}: node {100 * r['test_acc']:.2f} (epoch {r['epoch']}), "
                 f"decision {100 * r['test_dec']:.2f} ({r['seconds']:.0f} s)")
            if out is not None:
                out.write_text(json.dumps({"args": args, "results": results}, indent=1))
    echo(f"\nCora, seeds {first_seed}-{seeds - 1}, {epochs} epochs, self_loops {self_loops}, "
         f"init {init}, prelu {prelu} (mean +- std, %):")
    echo(f"{'activation':>10} {'node acc':>14} {'decision acc':>14} {'paper node':>12}")
    for act, runs in results.items():
        node = 100 * np.array([r["test_acc"] for r in runs])
        dec = 100 * np.array([r["test_dec"] for r in runs])
        paper = f"{PAPER_POLY_NODE[0]} +- {PAPER_POLY_NODE[1]}" if act == "poly" else "n/a"
        echo(f"{act:>10} {node.mean():>7.2f} +- {node.std():<4.2f} {dec.mean():>7.2f} +- "
             f"{dec.std():<4.2f} {paper:>12}")
    return results
