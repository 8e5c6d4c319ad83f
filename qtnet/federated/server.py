"""The server's bookkeeping, apart from Flower: the global model's checkpoints (the trainer's
orbax :class:`~qtnet.training.Checkpoints`, one per completed round), its evaluation on the
test split, the per-round metering log (``rounds.jsonl``) and the final report and plot."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np

from qtnet.federated.config import FederatedRun
from qtnet.federated.data_cache import CACHE_DIR, cached_loader
from qtnet.federated.metering import client_round_cost, round_totals
from qtnet.training import Checkpoints, build_setup, make_eval_step
from qtnet.training.setup import run_eval

ROUNDS_LOG = "rounds.jsonl"
REPORT = "report.json"


class RoundFailed(RuntimeError):
    """A round that cannot update the global model (:func:`check_round`)."""


def check_round(round_: int, sampled: int, updates: int, errors: list[str],
                federated) -> None:
    """Whether round ``round_`` may be aggregated: some update came back and, unless
    ``federated.accept_failures``, every sampled client's did.

    Args:
      sampled: clients sent the global model.
      updates: replies holding an update.
      errors: the error replies' texts (a client that raised, or whose process died).
      federated: the run's :class:`~qtnet.federated.FederatedConfig`.

    Raises:
      RoundFailed: naming the round, the missing clients and why; the global model stays at
        the previous round's checkpoint.
    """
    missing = sampled - updates
    if not missing:
        return
    silent = missing - len(errors)
    within = f"federated.round_timeout = {federated.round_timeout:g} s"
    if federated.straggler_timeout is not None and updates:
        within += (f" (federated.straggler_timeout = {federated.straggler_timeout:g} s after "
                   f"the first update)")
    reasons = [*errors, *([f"{silent} sent no reply within {within}"] if silent > 0 else [])]
    why = "; ".join(reasons)
    if not updates:
        raise RoundFailed(f"round {round_}: none of the {sampled} sampled clients sent an "
                          f"update ({why})")
    if not federated.accept_failures:
        raise RoundFailed(f"round {round_}: {missing} of the {sampled} sampled clients sent no "
                          f"update ({why}) and federated.accept_failures is false; the global "
                          f"model stays at round {round_ - 1}")


class GlobalModel:
    """The global model of a run folder: restored at the last completed round, saved after
    each round; the TrainState's ``step`` is the number of completed rounds, its
    ``opt_state`` the server optimiser's state (``server_state(params)`` gives its initial
    value; None, or a strategy without one, keeps the trainer's initial state there)."""

    def __init__(self, run: FederatedRun, workdir: str | Path,
                 server_state: Callable[[object], object] | None = None):
        self.run, self.workdir = run, Path(workdir)
        # The server builds the data first and leaves them for the clients' processes.
        self.setup = build_setup(run.config, cached_loader(self.workdir / CACHE_DIR))
        initial = server_state(self.setup.state.params) if server_state else None
        if initial is not None:
            self.setup = dataclasses.replace(
                self.setup, state=self.setup.state.replace(opt_state=initial))
        self.eval_step = make_eval_step(self.setup.graphdef)
        self.ckpt = Checkpoints(self.workdir / "checkpoints", run.config.checkpoint)
        self.n_params = sum(int(np.size(p)) for p in jax.tree.leaves(self.setup.state.params))

    def restore(self) -> tuple[int, object, object]:
        """``(completed_rounds, params, server_state)``: the newest usable checkpoint, else
        round 0."""
        restored = self.ckpt.restore(self.setup.state)
        if restored is None:
            return 0, self.setup.state.params, self.setup.state.opt_state
        rounds, state, _ = restored
        _trim_log(self.workdir / ROUNDS_LOG, rounds)
        return rounds, state.params, state.opt_state

    def evaluate(self, params, split: str = "test") -> dict:
        return run_eval(self.eval_step, params, self.setup.data,
                        self.run.config.training.batch_size, split)

    def save(self, round_: int, params, record: dict, server_state=None) -> None:
        state = self.setup.state.replace(step=jax.numpy.asarray(round_, jax.numpy.int32),
                                         params=params)
        if server_state is not None:
            state = state.replace(opt_state=server_state)
        meta = {"round": round_, "eval": record["eval"], "totals": record["totals"]}
        self.ckpt.save(round_, state, meta, {f"eval/{k}": v for k, v in record["eval"].items()})

    def round_record(self, round_: int, replies: dict[str, dict], sampled: int,
                     params, seconds: float) -> dict:
        """One line of ``rounds.jsonl``: per-client metrics and bills, totals, evaluation."""
        fed = self.run.federated
        clients = {}
        for node, metrics in replies.items():
            bill = client_round_cost(self.n_params, fed.bits, fed.local_steps,
                                     self.setup.comm_per_step)
            clients[node] = {**metrics, **bill}
        # A sampled client that sent nothing back still received the model.
        missing = sampled - len(replies)
        totals = round_totals(clients)
        totals["bits_down"] = totals.get("bits_down", 0) + missing * self.n_params * fed.bits
        record = {"round": round_, "sampled": sampled, "replied": len(replies),
                  "seconds": seconds, "clients": clients, "totals": totals,
                  "eval": self.evaluate(params)}
        if self.setup.has_val:
            record["val"] = self.evaluate(params, "val")
        with (self.workdir / ROUNDS_LOG).open("a") as f:
            f.write(json.dumps(record) + "\n")
        return record

    def close(self) -> None:
        self.ckpt.close()


def _trim_log(path: Path, rounds: int) -> None:
    """Keep the log lines of the rounds a restored checkpoint holds (a crash may have logged a
    round it did not save)."""
    if not path.is_file():
        return
    lines = [ln for ln in path.read_text().splitlines()
             if ln.strip() and json.loads(ln)["round"] <= rounds]
    path.write_text("".join(ln + "\n" for ln in lines))


def read_rounds(workdir: str | Path) -> list[dict]:
    path = Path(workdir) / ROUNDS_LOG
    if not path.is_file():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def write_report(run: FederatedRun, workdir: str | Path, resumed_from: int,
                 started: float) -> dict:
    """``report.json`` (run totals, final accuracy, privacy spent) and ``report.png``."""
    workdir = Path(workdir)
    rounds = read_rounds(workdir)
    totals: dict[str, float] = {}
    for r in rounds:
        for k, v in r["totals"].items():
            totals[k] = totals.get(k, 0) + v
    eps = [c.get("epsilon") for r in rounds[-1:] for c in r["clients"].values()]
    report = {
        "rounds": len(rounds), "resumed_from": resumed_from,
        "clients": run.federated.clients, "partition": run.federated.partition,
        "alpha": run.federated.alpha if run.federated.partition == "dirichlet" else None,
        "strategy": run.federated.strategy, "local_steps": run.federated.local_steps,
        "final_eval": rounds[-1]["eval"] if rounds else {},
        "final_val": rounds[-1].get("val", {}) if rounds else {},
        "totals": totals,
        "bits_per_round": (totals.get("bits_up", 0) + totals.get("bits_down", 0))
        / max(1, len(rounds)),
        "seconds_this_session": time.time() - started,
        "privacy": ({**dataclasses.asdict(run.privacy),
                     "epsilon_spent_max": max(e for e in eps if e is not None)}
                    if run.privacy.enabled and any(e is not None for e in eps) else None),
    }
    (workdir / REPORT).write_text(json.dumps(report, indent=1))
    _plot(rounds, workdir / "report.png")
    return report


def _plot(rounds: list[dict], path: Path) -> None:
    if not rounds:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["round"] for r in rounds]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(x, [r["eval"]["accuracy"] for r in rounds], "o-")
    a.set_xlabel("round")
    a.set_ylabel("test accuracy (global model)")
    b.plot(x, [r["totals"]["bits_up"] + r["totals"]["bits_down"] for r in rounds], "o-",
           label="parameters (up + down)")
    if "quantum_qubits" in rounds[0]["totals"]:
        b.plot(x, [r["totals"]["quantum_qubits"] for r in rounds], "s--",
               label="qubits, if states were sent")
    b.set_yscale("log")
    b.set_xlabel("round")
    b.set_ylabel("bits / qubits per round")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
