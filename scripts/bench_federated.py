"""Federated against centralised training of one config, with the same total steps.

    python scripts/bench_federated.py [--config configs/federated/digits_dirichlet.yaml]
        [--set KEY=VALUE ...] [--centralised-config FILE] [--out bench_results/federated]

Runs the federation (Flower SuperLink + SuperNodes on localhost), then the ordinary trainer
on the whole training split for clients x rounds x local steps steps at the same batch size
(every client step of the federation is one step there), and prints test accuracy, rounds per
minute and bits per round; writes federated.json. The centralised run trains the config's
model and optimiser, or those of ``--centralised-config`` (a federation whose clients run
another optimiser than centralised training would, e.g. FedAdam's SGD clients).
"""

from __future__ import annotations

import argparse
import dataclasses
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
                        help="federated config whose model, data and optimiser the centralised "
                             "run trains (default: --config's)")
    parser.add_argument("--reuse-federated", action="store_true",
                        help="keep a finished federated run in --out (its seconds are those "
                             "recorded then) and run only the centralised side")
    args = parser.parse_args(argv)
    from qtnet.federated import load_run
    from qtnet.federated.runtime import run_federation
    from qtnet.training import train

    run = load_run(ROOT / args.config, args.overrides)
    out = ROOT / args.out
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
                            "seconds": fed_seconds,
                            "rounds_per_minute": fed.rounds / (fed_seconds / 60),
                            "bits_per_round": report["bits_per_round"],
                            "quantum_qubits_per_round":
                                report["totals"].get("quantum_qubits", 0) / fed.rounds,
                            "privacy": report["privacy"]}}
    if not args.skip_centralised:
        steps = fed.sampled_per_round * fed.rounds * fed.local_steps
        base = (load_run(ROOT / args.centralised_config).config if args.centralised_config
                else run.config)
        config = dataclasses.replace(base, training=dataclasses.replace(
            base.training, steps=steps, eval_every=steps))
        start = time.perf_counter()
        central = train(config, out / "centralised", echo=lambda *_: None, interactive=False)
        result["centralised"] = {"steps": steps, "seconds": time.perf_counter() - start,
                                 "config": args.centralised_config or args.config,
                                 # the test split, as the federated server evaluates
                                 "accuracy": (central.summary.get("final_test")
                                              or central.eval_metrics)["accuracy"]}
    (out / "federated.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
