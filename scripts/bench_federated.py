"""Federated against centralised training of one config, with the same total steps.

    python scripts/bench_federated.py [--config configs/federated/digits_dirichlet.yaml]
        [--set KEY=VALUE ...] [--centralised-config FILE] [--centralised-set KEY=VALUE ...]
        [--out bench_results/federated]
        [--in-process | --centralised-only] [--seeds 0,1,2] [--sweep KEY=V1,V2,...]

Runs the federation (Flower SuperLink + SuperNodes on localhost), then the ordinary trainer
on the whole training split for clients x rounds x local steps steps at the same batch size
(every client step of the federation is one step there), and prints test accuracy, rounds per
minute and bits per round; writes federated.json. The centralised run trains the model and
optimiser of ``--centralised-config`` if given (a federation whose clients run another
optimiser than centralised training would, e.g. FedAdam's SGD clients), always on
``--config``'s data and training seed; a centralised sweep may set ``schedule.*`` (its
``federated`` section is ignored there).

``--in-process`` replaces Flower by :func:`qtnet.federated.simulation.simulate` (each
client's ``LocalTrainer``, Flower's strategy object aggregating in this process; no
processes, no messages) for sweeps; ``--centralised-only`` runs only the centralised side.
Both take ``--seeds`` (``training.seed`` values: partitions, initialisation, batches) and
``--sweep`` (a grid, repeatable), and print the accuracy after the last round / step on the
validation split (when the data have one, ``data.val_fraction``) and the test split, mean and
standard deviation over the seeds per setting; they write sweep_<mode>.json in --out. Tune on
validation; the test column is for reporting the chosen setting.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/federated/digits_dirichlet.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", default="bench_results/federated")
    parser.add_argument("--skip-centralised", action="store_true")
    parser.add_argument("--centralised-config", default=None,
                        help="federated config whose model and optimiser the centralised "
                             "run trains (default: --config's)")
    parser.add_argument("--centralised-set", dest="centralised_overrides", action="append",
                        default=[], help="KEY=VALUE for the centralised run only (e.g. "
                                         "schedule.type=cosine)")
    parser.add_argument("--reuse-federated", action="store_true",
                        help="keep a finished federated run in --out (its seconds are those "
                             "recorded then) and run only the centralised side")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--in-process", action="store_true",
                      help="simulate the federation in this process (see above)")
    mode.add_argument("--centralised-only", action="store_true",
                      help="only the centralised runs (with --seeds / --sweep)")
    parser.add_argument("--seeds", default=None,
                        help="comma-separated training.seed values (--in-process, "
                             "--centralised-only)")
    parser.add_argument("--sweep", action="append", default=[],
                        help="KEY=V1,V2,...: a grid axis (--in-process, --centralised-only)")
    args = parser.parse_args(argv)
    from qtnet.federated import load_run

    out = ROOT / args.out
    if args.in_process or args.centralised_only:
        rows = sweep(args)
        out.mkdir(parents=True, exist_ok=True)
        name = "in_process" if args.in_process else "centralised"
        (out / f"sweep_{name}.json").write_text(json.dumps(rows, indent=1))
        return 0
    from qtnet.federated.runtime import run_federation

    run = load_run(ROOT / args.config, args.overrides)
    if args.reuse_federated and (out / "federated" / "report.json").is_file():
        shutil.rmtree(out / "centralised", ignore_errors=True)
        rounds = [json.loads(ln) for ln in
                  (out / "federated" / "rounds.jsonl").read_text().splitlines()]
        fed_seconds = sum(r["seconds"] for r in rounds)       # rounds only, no start-up
    else:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        start = time.perf_counter()
        run_federation(run, out / "federated")
        fed_seconds = time.perf_counter() - start
    report = json.loads((out / "federated" / "report.json").read_text())
    fed = run.federated
    result = {"config": args.config, "overrides": args.overrides,
              "federated": {"accuracy": report["final_eval"]["accuracy"],
                            "val_accuracy": report.get("final_val", {}).get("accuracy"),
                            "seconds": fed_seconds,
                            "rounds_per_minute": fed.rounds / (fed_seconds / 60),
                            "bits_per_round": report["bits_per_round"],
                            "quantum_qubits_per_round":
                                report["totals"].get("quantum_qubits", 0) / fed.rounds,
                            "privacy": report["privacy"]}}
    if not args.skip_centralised:
        start = time.perf_counter()
        central = centralised(run, args.centralised_config or args.config,
                              args.overrides + args.centralised_overrides,
                              out / "centralised")
        result["centralised"] = {**central, "seconds": time.perf_counter() - start,
                                 "config": args.centralised_config or args.config,
                                 "overrides": args.centralised_overrides}
    (out / "federated.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


def centralised(run, centralised_config, overrides, workdir, trainer=None) -> dict:
    """The ordinary trainer for the federation's total client steps on ``run``'s data and
    seed, the model, optimiser and schedule from ``centralised_config`` with ``overrides``
    (those of the ``federated`` and ``privacy`` sections left out); returns the steps and
    the last step's test (and validation) accuracy."""
    from qtnet.config import Config, from_dict, merge, parse_overrides, read_yaml
    from qtnet.training import train

    fed = run.federated
    steps = fed.sampled_per_round * fed.rounds * fed.local_steps
    # The trainer's sections only: a federated run refuses schedules, a trainer may not.
    data = {k: v for k, v in read_yaml(ROOT / centralised_config).items()
            if k not in ("federated", "privacy")}
    base = from_dict(Config, merge(data, parse_overrides(
        [o for o in overrides if not o.startswith(("federated.", "privacy."))]), Config))
    config = dataclasses.replace(base, data=run.config.data, training=dataclasses.replace(
        base.training, steps=steps, eval_every=steps, seed=run.config.training.seed))
    shutil.rmtree(workdir, ignore_errors=True)
    result = train(config, workdir, echo=lambda *_: None, interactive=False, trainer=trainer)
    summary = result.summary
    out = {"steps": steps}
    if summary["eval_split"] == "val":
        out["val_accuracy"] = summary["final_eval"]["accuracy"]
        out["accuracy"] = summary["final_test"]["accuracy"]
    else:
        out["accuracy"] = summary["final_eval"]["accuracy"]
    return out


def sweep(args) -> list[dict]:
    """Every ``--sweep`` setting at every seed, in process or centralised; prints a table."""
    import logging

    import numpy as np

    from qtnet.federated import load_run
    from qtnet.federated.simulation import simulate

    logging.getLogger("flwr").setLevel(logging.WARNING)     # a line per aggregation
    from qtnet.training import Trainer

    axes = [(key, values.split(",")) for key, values in
            (s.split("=", 1) for s in args.sweep)]
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [None]
    trainer = Trainer()
    rows = []
    print(f"{'setting':50s} {'val mean +- std':>18s} {'test mean +- std':>18s}  seconds",
          flush=True)
    for values in itertools.product(*(v for _, v in axes)):
        setting = [f"{k}={v}" for (k, _), v in zip(axes, values)]
        row = {"setting": setting, "seeds": [], "val": [], "test": []}
        t0 = time.perf_counter()
        for seed in seeds:
            seeded = [] if seed is None else [f"training.seed={seed}"]
            if args.in_process:
                run = load_run(ROOT / args.config, args.overrides + setting + seeded)
                acc, _ = simulate(run)
                got = {"accuracy": acc["test"][-1],
                       "val_accuracy": (acc.get("val") or [None])[-1],
                       "test_per_round": acc["test"], "val_per_round": acc.get("val")}
            else:
                run = load_run(ROOT / args.config, args.overrides + seeded)
                got = centralised(run, args.centralised_config or args.config,
                                  args.overrides + args.centralised_overrides + setting
                                  + seeded,
                                  ROOT / args.out / "centralised_sweep", trainer)
            row["seeds"].append({"seed": seed, **got})
            row["test"].append(got["accuracy"])
            row["val"].append(got.get("val_accuracy"))
        row["seconds"] = time.perf_counter() - t0
        stats = {}
        for split in ("val", "test"):
            vals = [v for v in row[split] if v is not None]
            std = np.std(vals, ddof=1) if len(vals) > 1 else 0.0
            stats[split] = f"{np.mean(vals):.4f} +- {std:.4f}" if vals else "-"
            row[f"{split}_mean"] = float(np.mean(vals)) if vals else None
            row[f"{split}_std"] = float(np.std(vals, ddof=1)) if len(vals) > 1 else None
        print(f"{' '.join(setting) or '(config)':50s} {stats['val']:>18s} {stats['test']:>18s}"
              f"  {row['seconds']:.0f}", flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    sys.exit(main())
