"""The trainer: one config, one run folder, resumable at any checkpoint, bit for bit.

Resume order (each step must match the unbroken run exactly):
  1. Validate the config, then load the data and build the model from the config's seed.
  2. Refuse a run folder whose stored config differs in a resume-sensitive section
     (model, data, backend, optimiser) unless ``force_restart`` (the old run is moved aside).
  3. Restore the newest readable checkpoint (unreadable ones are set aside with a warning):
     step, params, optimiser state, RNG. Batch ``s`` is a pure function of (seed, s).
  4. Trim ``metrics.jsonl`` to the restored step and continue from there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import signal
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from qtnet.data.features import sign_hops
from qtnet.config import RESUME_SENSITIVE, Config, ConfigError, dump_yaml, read_run_config
from qtnet.models import build_model
from qtnet.training.checkpoint import Checkpoints
from qtnet.data import Dataset, load_dataset
from qtnet.training.batches import batch_indices
from qtnet.training.metrics_log import MetricsLog, plot_curves, read_metrics
from qtnet.training.optim import build_optimizer, learning_rate_schedule
from qtnet.training.steps import init_state, make_eval_step, make_train_step

CONFIG_FILE = "config.yaml"


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class Stopped(RuntimeError):
    """A SIGTERM/SIGINT stopped the run after saving a checkpoint."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


@dataclasses.dataclass
class RunResult:
    workdir: Path
    step: int
    resumed_from: int
    train_metrics: dict
    eval_metrics: dict
    summary: dict


@dataclasses.dataclass
class _Setup:
    config: Config
    data: Dataset
    graphdef: object
    state: object
    tx: object
    comm_per_step: dict          # communication one training step costs (empty: not metered)


def _set_precision(config: Config) -> None:
    if config.needs_x64:
        jax.config.update("jax_enable_x64", True)


def _setup(config: Config) -> _Setup:
    _set_precision(config)
    data = load_dataset(config.data)
    activation = getattr(config.model, "activation", None)
    if config.circuit.evaluate and not (config.model.type == "sign" and
                                        activation == "poly" and data.graph):
        raise ConfigError("circuit.evaluate: only a polynomial SIGN (model.type: sign, "
                          "model.activation: poly) on a graph dataset (data.type: cora) has "
                          f"a circuit form; got model {config.model.type!r} "
                          f"({activation}) on {config.data.type!r}")
    model = build_model(config, data.sample_shape, data.n_classes,
                        nnx.Rngs(params=config.training.seed))
    tx = build_optimizer(config)
    graphdef, state = init_state(model, tx, config.training.seed)
    return _Setup(config, data, graphdef, state, tx, _comm_per_step(config, model))


def _comm_per_step(config: Config, model) -> dict:
    """Quantum qubits and classical bits one step costs: every sample of the batch needs its
    own copies for the loss and the gradient (bookkeeping only; nothing traced)."""
    m = config.metering
    if not m.enabled or not hasattr(model, "protocol"):
        return {}
    from qtnet.comm import Estimator, meter

    totals = meter(model.protocol(), Estimator(m.epsilon, m.delta, m.gradient, m.bits)).totals()
    batch = config.training.batch_size
    return {"quantum_qubits": batch * totals["quantum_qubits"],
            "classical_bits": batch * totals["classical_bits"]}


_STEP_CACHE: dict[str, tuple] = {}


def _compiled_steps(setup: _Setup):
    """``(train_step, eval_step)``, reused across ``train``/``evaluate`` calls in a process
    whenever everything they depend on (model, data, backend, optimiser, schedule, steps)
    is the same, so a resumed or repeated run in one session does not compile again."""
    c = setup.config
    steps = c.training.steps if c.schedule.type != "constant" else None   # sets the schedule
    key = json.dumps([dataclasses.asdict(getattr(c, k)) for k in
                      ("model", "data", "backend", "optimizer", "schedule")] + [steps],
                     sort_keys=True)
    if key not in _STEP_CACHE:
        _STEP_CACHE[key] = (make_train_step(setup.graphdef, setup.tx,
                                            learning_rate_schedule(c)),
                            make_eval_step(setup.graphdef))
    return _STEP_CACHE[key]


def _train_batch(data: Dataset, config: Config, step: int) -> dict:
    idx = batch_indices(config.training.seed, step, config.training.batch_size,
                        len(data.y_train))
    return {"x": jnp.asarray(data.x_train[idx]), "y": jnp.asarray(data.y_train[idx])}


def run_eval(eval_step, params, data: Dataset, batch_size: int, split: str = "test") -> dict:
    """Mean loss, accuracy and fidelity over a split (``test`` or ``val``), in fixed-shape
    padded batches."""
    x, y = (data.x_test, data.y_test) if split == "test" else (data.x_val, data.y_val)
    n = len(y)
    totals: dict[str, float] = {}
    for start in range(0, n, batch_size):
        idx = np.arange(start, start + batch_size)
        mask = idx < n
        idx = np.where(mask, idx, 0)
        sums = eval_step(params, {"x": jnp.asarray(x[idx]), "y": jnp.asarray(y[idx]),
                                  "mask": jnp.asarray(mask)})
        for k, v in jax.device_get(sums).items():
            totals[k] = totals.get(k, 0.0) + float(v)
    count = totals.pop("count")
    return {"loss": totals["loss"] / count, "accuracy": totals["correct"] / count,
            "fidelity": totals["fidelity"] / count}


def _check_compatible(workdir: Path, config: Config, force_restart: bool, echo=print) -> None:
    stored_path = workdir / CONFIG_FILE
    has_run = (workdir / "checkpoints").is_dir() and any((workdir / "checkpoints").iterdir())
    if not has_run:
        return
    if force_restart:
        _archive(workdir)
        return
    if not stored_path.is_file():
        return
    stored = dataclasses.asdict(read_run_config(stored_path))
    current = dataclasses.asdict(config)
    for sec in RESUME_SENSITIVE:
        for key in current[sec]:
            if stored[sec].get(key) != current[sec][key]:
                raise ConfigError(
                    f"{workdir} holds a run with {sec}.{key}={stored[sec].get(key)!r}, this "
                    f"config has {current[sec][key]!r}; pass --force-restart to start over "
                    f"(the old run is moved aside) or use another --workdir")
    old_steps, new_steps = stored["training"]["steps"], config.training.steps
    if old_steps != new_steps and config.schedule.type != "constant":
        echo(f"warning: training.steps changed from {old_steps} to {new_steps}; the "
             f"{config.schedule.type} schedule is laid out over training.steps, so the learning "
             f"rate from here on differs from either unbroken run")


def _archive(workdir: Path) -> Path:
    target = workdir / f"superseded-{time.strftime('%Y%m%d-%H%M%S')}"
    target.mkdir()
    for name in ("checkpoints", "manifests", "corrupt", "metrics.jsonl", "tensorboard", CONFIG_FILE,
                 "curves.png", "summary.json"):
        if (workdir / name).exists():
            (workdir / name).rename(target / name)
    return target


@contextlib.contextmanager
def _stop_requests():
    """Turn SIGTERM/SIGINT into a flag the loop checks after each step."""
    requested: list[int] = []
    handler = lambda signum, _frame: requested.append(signum)
    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield requested
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def train(config: Config, workdir: str | Path, *, force_restart: bool = False,
          echo=print, interactive: bool | None = None) -> RunResult:
    """Train (or resume) the run in ``workdir`` as ``config`` says. See the module docstring."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    _check_compatible(workdir, config, force_restart, echo)
    setup = _setup(config)
    dump_yaml(config, workdir / CONFIG_FILE)
    echo(f"qtnet train: {setup.data.describe()}; model {config.model.type} "
         f"({config.backend.type}, {config.backend.dtype}); run folder {workdir}")

    ckpt = Checkpoints(workdir / "checkpoints", config.checkpoint)
    start_restore = time.perf_counter()
    restored = ckpt.restore(setup.state)
    restore_seconds = time.perf_counter() - start_restore
    state, start = setup.state, 0
    if restored is not None:
        start, state, _ = restored
        echo(f"resumed from the checkpoint at step {start} ({restore_seconds:.2f} s)")
    total = config.training.steps
    train_step, eval_step = _compiled_steps(setup)
    log = MetricsLog(workdir, total, resume_step=start, log_every=config.training.log_every,
                     interactive=interactive, echo=echo)
    train_metrics, eval_metrics, first_step_seconds, step_seconds = {}, {}, None, []
    test_metrics = {}
    eval_split = "val" if setup.data.y_val is not None else "test"   # selects the best
    last_saved = time.perf_counter(), start if restored else None
    try:
        with _stop_requests() as stop:
            for step in range(start, total):
                t0 = time.perf_counter()
                state, metrics = train_step(state, _train_batch(setup.data, config, step))
                train_metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
                if first_step_seconds is None:
                    first_step_seconds = time.perf_counter() - t0
                else:
                    step_seconds.append(time.perf_counter() - t0)
                done = step + 1
                for key, per_step in setup.comm_per_step.items():     # cumulative totals
                    train_metrics[f"comm_{key}"] = done * per_step
                log.write(done, "train", train_metrics)
                if not math.isfinite(train_metrics["loss"]):
                    kept = f"step {last_saved}" if last_saved is not None else "none"
                    raise NonFiniteLossError(
                        f"loss is {train_metrics['loss']} at step {done}; stopping. "
                        f"Last good checkpoint: {kept} in {ckpt.directory}")
                scheduled = done % config.checkpoint.every == 0 or done == total
                # A save forced by a signal runs no extra eval: the metrics stay those of the
                # unbroken run (that checkpoint is kept as a latest one, not ranked as best).
                saving = scheduled or bool(stop)
                if done % config.training.eval_every == 0 or done == total or (
                        scheduled and config.checkpoint.best_metric):
                    eval_metrics = run_eval(eval_step, state.params, setup.data,
                                            config.training.batch_size, eval_split)
                    log.write(done, "eval", eval_metrics)
                    if eval_split == "val":
                        test_metrics = run_eval(eval_step, state.params, setup.data,
                                                config.training.batch_size)
                        log.write(done, "test", test_metrics)
                if saving:
                    meta = {"config": dataclasses.asdict(config), "data_position": done,
                            "train": train_metrics, "eval": eval_metrics,
                            "test": test_metrics,
                            "meter": {k: done * v for k, v in setup.comm_per_step.items()}}
                    ranked = {f"train/{k}": v for k, v in train_metrics.items()}
                    if scheduled:
                        ranked.update({f"eval/{k}": v for k, v in eval_metrics.items()})
                    ckpt.save(done, state, meta, ranked)
                    last_saved = done
                if stop:
                    ckpt.wait()
                    name = signal.Signals(stop[0]).name
                    raise Stopped(f"stopped by {name} at step {done}; checkpoint saved in "
                                  f"{ckpt.directory}; run the same command to resume", stop[0])
    finally:
        ckpt.close()
        log.close()
    summary = {
        "steps_run": total - start, "resumed_from": start,
        "first_step_seconds": first_step_seconds,   # compile + one step
        "steps_per_second": len(step_seconds) / sum(step_seconds) if step_seconds else None,
        "checkpoint_save_seconds": (float(np.median(ckpt.save_seconds))
                                    if ckpt.save_seconds else None),
        "checkpoint_restore_seconds": restore_seconds if restored else None,
        "final_train": train_metrics, "final_eval": eval_metrics, "eval_split": eval_split,
    }
    if test_metrics:
        summary["final_test"] = test_metrics
    if setup.data.info:
        summary["data"] = setup.data.info
    if config.circuit.evaluate:
        summary["circuit"] = _evaluate_as_circuit(workdir, setup, echo)
    (workdir / "summary.json").write_text(json.dumps(summary, indent=1))
    plot_curves(workdir)
    return RunResult(workdir, total, start, train_metrics, eval_metrics, summary)


def _best_step(workdir: Path, steps: list[int]) -> int:
    """The saved step with the best eval (validation) accuracy; the earliest on a tie."""
    accuracy = {r["step"]: r["accuracy"] for r in read_metrics(workdir / "metrics.jsonl")
                if r.get("split") == "eval"}
    return max(steps, key=lambda s: (accuracy.get(s, -1.0), -s))


def _evaluate_as_circuit(workdir: Path, setup: _Setup, echo) -> dict:
    """The best checkpoint of a SIGN run on a graph, evaluated as a circuit (qtnet.gnn)."""
    from qtnet.gnn.evaluate import evaluate_sign_circuit

    config = setup.config
    ckpt = Checkpoints(workdir / "checkpoints", config.checkpoint)
    try:
        step = _best_step(workdir, ckpt.steps())
        _, state, _ = ckpt.restore(setup.state, step)
    finally:
        ckpt.close()
    graph = setup.data.graph
    hops = sign_hops(graph, config.data.hops, dtype=np.float64)   # every node, not one split
    model = nnx.merge(setup.graphdef, state.params)
    start = time.perf_counter()
    result = evaluate_sign_circuit(model, graph, hops, epsilon=config.circuit.epsilon,
                                   delta=config.circuit.delta, out_dir=workdir / "circuit")
    result.update(step=step, seconds=time.perf_counter() - start)
    comm = result["comm"]["decision"]
    echo(f"circuit (step {step}, {result['qubits']} qubits, {result['seconds']:.0f} s): logits "
         f"match the classical model to {result['max_relative_difference']:.1e} (relative); "
         f"test accuracy {result['test_accuracy_circuit']:.4f}, decision accuracy "
         f"{result['decision_accuracy_circuit']:.4f}; decision problem: "
         f"{comm['quantum_qubits']:.3g} qubits vs {comm['classical_bits']:.3g} classical bits; "
         f"report in {workdir / 'circuit'}")
    return result


def evaluate(workdir: str | Path, step: int | None = None) -> dict:
    """Evaluate the newest readable (or the given) checkpoint of a run folder on the test split."""
    workdir = Path(workdir)
    config_path = workdir / CONFIG_FILE
    if not config_path.is_file():
        raise ConfigError(f"no run in {workdir}: {config_path} not found")
    config = read_run_config(config_path)
    setup = _setup(config)
    ckpt = Checkpoints(workdir / "checkpoints", config.checkpoint)
    try:
        restored = ckpt.restore(setup.state, step)
    except FileNotFoundError as err:
        raise ConfigError(str(err)) from None
    finally:
        ckpt.close()
    if restored is None:
        raise ConfigError(f"no readable checkpoint in {workdir / 'checkpoints'}")
    got, state, _ = restored
    eval_step = _compiled_steps(setup)[1]
    metrics = run_eval(eval_step, state.params, setup.data, config.training.batch_size)
    out = {"step": got, **metrics}
    if setup.data.y_val is not None:
        val = run_eval(eval_step, state.params, setup.data, config.training.batch_size, "val")
        out.update({f"val_{k}": v for k, v in val.items()})
    return out
