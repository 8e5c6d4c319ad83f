"""Federated against centralised training of one config, with the same total steps.

    python scripts/bench_federated.py [--config configs/federated/digits_dirichlet.yaml]
        [--set KEY=VALUE ...] [--centralised-config FILE] [--out bench_results/federated]
        [--in-process]

Runs the federation (Flower SuperLink + SuperNodes on localhost), then the ordinary trainer
on the whole training split for clients x rounds x local steps steps at the same batch size
(every client step of the federation is one step there), and prints test accuracy, rounds per
minute and bits per round; writes federated.json. The centralised run trains the config's
model and optimiser, or those of ``--centralised-config`` (a federation whose clients run
another optimiser than centralised training would, e.g. FedAdam's SGD clients).

``--in-process`` replaces Flower by a loop in this process for a quick sweep (not a
federation: no processes, no messages): each client's :class:`LocalTrainer` (exactly what the
ClientApp runs) and the server rule of Flower's strategy re-implemented in numpy (examples-
weighted mean; FedAdam's moments and bias-corrected step as ``flwr.serverapp.strategy.FedAdam``
computes them). Prints the test accuracy after every round; confirm a result on Flower.
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
    parser.add_argument("--in-process", action="store_true",
                        help="simulate the federation in this process (see above) and print "
                             "the accuracy per round; nothing else runs")
    args = parser.parse_args(argv)
    from qtnet.federated import load_run
    from qtnet.federated.runtime import run_federation
    from qtnet.training import train

    run = load_run(ROOT / args.config, args.overrides)
    if args.in_process:
        accuracies = simulate(run)
        print(json.dumps({"config": args.config, "overrides": args.overrides,
                          "accuracy_per_round": accuracies}))
        return 0
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


def simulate(run, echo=print) -> list[float]:
    """Test accuracy after each round of ``run`` simulated in process (``--in-process``)."""
    import numpy as np

    from qtnet.federated.local import LocalTrainer, arrays_to_params, params_to_arrays
    from qtnet.training import build_setup, make_eval_step
    from qtnet.training.setup import run_eval

    fed = run.federated
    if fed.sampled_per_round != fed.clients:
        raise SystemExit("--in-process simulates every client in every round only")
    setup = build_setup(run.config)
    eval_step = make_eval_step(setup.graphdef)
    clients = [LocalTrainer.build(run, i) for i in range(fed.clients)]
    weights = np.array([len(c.indices) for c in clients], float)
    weights /= weights.sum()
    mu = fed.proximal_mu if fed.strategy == "fedprox" else 0.0
    beta1, beta2 = 0.9, 0.99                         # Flower's FedAdam defaults
    x = params_to_arrays(setup.state.params)      # float32 on the wire, as on Flower
    m = [np.zeros_like(a) for a in x]
    v = [np.zeros_like(a) for a in x]
    accuracies = []
    for round_ in range(1, fed.rounds + 1):
        params = arrays_to_params(setup.state.params, x)
        updates = [params_to_arrays(c.train_round(params, round_, mu)[0]) for c in clients]
        mean = [sum(w * u[k] for w, u in zip(weights, updates)) for k in range(len(x))]
        if fed.strategy == "fedadam":
            delta = [a - b for a, b in zip(mean, x)]
            m = [beta1 * a + (1 - beta1) * d for a, d in zip(m, delta)]
            v = [beta2 * a + (1 - beta2) * d ** 2 for a, d in zip(v, delta)]
            eta = (fed.server_learning_rate * np.sqrt(1 - beta2 ** (round_ + 1.0))
                   / (1 - beta1 ** (round_ + 1.0)))
            x = [a + eta * b / (np.sqrt(c) + fed.server_tau) for a, b, c in zip(x, m, v)]
        else:
            x = mean
        acc = run_eval(eval_step, arrays_to_params(setup.state.params, x), setup.data,
                       run.config.training.batch_size)["accuracy"]
        accuracies.append(float(acc))
        echo(f"round {round_}: test accuracy {acc:.4f}")
    return accuracies


if __name__ == "__main__":
    sys.exit(main())
