"""The trainer: one config, one run folder, resumable at any checkpoint, bit for bit.

Resume order (each step must match the unbroken run exactly):
  1. Validate the config, then load the data and build the model from the config's seed;
     check the after-training tasks the config requests (:mod:`qtnet.training.hooks`).
  2. Lock the run folder (one writer; :mod:`qtnet.training.lock`). Refuse a run folder whose
     stored config differs in a resume-sensitive setting (model, data, backend, optimiser,
     schedule, training seed and batch size) unless ``force_restart`` (the old run is moved
     aside).
  3. Restore the newest usable checkpoint: step, params, optimiser state, RNG. A damaged one
     is set aside with a warning; an unreadable or incompatible one stops the run
     (:mod:`qtnet.training.checkpoint`). Batch ``s`` is a pure function of (seed, s).
  4. Trim ``metrics.jsonl`` to the restored step (TensorBoard's events are rebuilt from it)
     and continue from there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import signal
import time
from pathlib import Path

import numpy as np

from qtnet import compilation_cache
from qtnet.config import Config, ConfigError, dump_yaml
from qtnet.training.checkpoint import Checkpoints
from qtnet.training.fit import fit
from qtnet.training.hooks import FinishedRun, Task, tasks_for
from qtnet.training.metrics_log import MetricsLog, plot_curves
from qtnet.training.lock import RunFolderLock, remove_if_unused
from qtnet.training.run_folder import CONFIG_FILE, check_compatible, prepare, stored_config
from qtnet.training.setup import CompiledSteps, Setup, build_setup, run_eval


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


class _RunSteps:
    """The trainer's step hook: log, stop on a non-finite loss, evaluate, save, obey signals."""

    def __init__(self, setup: Setup, eval_step, ckpt: Checkpoints, log: MetricsLog,
                 stop: list[int], last_saved: int | None, saved_meta: dict | None = None):
        self.setup, self.eval_step, self.ckpt, self.log, self.stop = (setup, eval_step, ckpt,
                                                                      log, stop)
        self.last_saved = last_saved          # step of the newest checkpoint; None: none yet
        self.eval_split = "val" if setup.has_val else "test"   # selects the best
        # The restored checkpoint's metrics until a step replaces them (a finished run
        # re-run runs no step and reports these).
        meta = saved_meta or {}
        self.train_metrics, self.eval_metrics, self.test_metrics = (
            dict(meta.get("train") or {}), dict(meta.get("eval") or {}),
            dict(meta.get("test") or {}))
        self.first_step_seconds, self.step_seconds = None, []

    def after_step(self, done: int, state, metrics: dict, seconds: float) -> None:
        config, setup = self.setup.config, self.setup
        if self.first_step_seconds is None:
            self.first_step_seconds = seconds
        else:
            self.step_seconds.append(seconds)
        for key, per_step in setup.comm_per_step.items():     # cumulative totals
            metrics[f"comm_{key}"] = done * per_step
        self.train_metrics = metrics
        self.log.write(done, "train", metrics)
        if not math.isfinite(metrics["loss"]):
            kept = f"step {self.last_saved}" if self.last_saved is not None else "none"
            raise NonFiniteLossError(f"loss is {metrics['loss']} at step {done}; stopping. "
                                     f"Last good checkpoint: {kept} in {self.ckpt.directory}")
        total = config.training.steps
        scheduled = done % config.checkpoint.every == 0 or done == total
        # A save forced by a signal runs no extra eval: the metrics stay those of the
        # unbroken run (that checkpoint is kept as a latest one, not ranked as best).
        saving = scheduled or bool(self.stop)
        if done % config.training.eval_every == 0 or done == total or (
                scheduled and config.checkpoint.best_metric):
            batch_size = config.training.batch_size
            self.eval_metrics = run_eval(self.eval_step, state.params, setup.data, batch_size,
                                         self.eval_split)
            self.log.write(done, "eval", self.eval_metrics)
            if self.eval_split == "val":
                self.test_metrics = run_eval(self.eval_step, state.params, setup.data,
                                             batch_size)
                self.log.write(done, "test", self.test_metrics)
        if saving:
            meta = {"config": dataclasses.asdict(config), "data_position": done,
                    "train": metrics, "eval": self.eval_metrics, "test": self.test_metrics,
                    "meter": {k: done * v for k, v in setup.comm_per_step.items()}}
            ranked = {f"train/{k}": v for k, v in metrics.items()}
            if scheduled:
                ranked.update({f"eval/{k}": v for k, v in self.eval_metrics.items()})
            self.ckpt.save(done, state, meta, ranked)
            self.last_saved = done
        if self.stop:
            self.ckpt.wait()
            name = signal.Signals(self.stop[0]).name
            raise Stopped(f"stopped by {name} at step {done}; checkpoint saved in "
                          f"{self.ckpt.directory}; run the same command to resume", self.stop[0])


def _read_summary(workdir: Path) -> dict | None:
    """The run's ``summary.json``, or None when it is missing or unreadable."""
    try:
        summary = json.loads((workdir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


class Trainer:
    """Trains and evaluates run folders; keeps its compiled steps, so a resumed or repeated
    run (or an evaluation) in the same process does not compile again."""

    def __init__(self):
        self.compiled = CompiledSteps()

    def train(self, config: Config, workdir: str | Path, *, force_restart: bool = False,
              echo=print, interactive: bool | None = None,
              tasks: dict[str, Task] | None = None) -> RunResult:
        """Train (or resume) the run in ``workdir`` as ``config`` says (module docstring).

        Args:
          tasks: after-training tasks by name (default: those the config requests, from the
            registry of :mod:`qtnet.training.hooks`).
        """
        workdir = Path(workdir)
        created = not workdir.exists()
        prepare(workdir)
        try:
            with RunFolderLock(workdir):
                return self._train_locked(config, workdir, force_restart, echo, interactive,
                                          tasks)
        except BaseException:
            if created:
                remove_if_unused(workdir)      # refused before writing: leave no folder
            raise

    def _train_locked(self, config: Config, workdir: Path, force_restart: bool, echo,
                      interactive: bool | None, tasks: dict[str, Task] | None) -> RunResult:
        check_compatible(workdir, config, force_restart, echo)
        compilation_cache.enable(config.compilation.cache, config.compilation.cache_dir)
        tasks = tasks_for(config) if tasks is None else tasks
        setup = build_setup(config)
        for task in tasks.values():
            task.check(setup)
        dump_yaml(config, workdir / CONFIG_FILE)
        echo(f"qtnet train: {setup.data.describe()}; model {config.model.type} "
             f"({config.backend.type}, {config.backend.dtype}); run folder {workdir}")

        ckpt = Checkpoints(workdir / "checkpoints", config.checkpoint)
        start_restore = time.perf_counter()
        try:
            restored = ckpt.restore(setup.state)
        except BaseException:
            # orbax's background threads must end before the process does, or one of them
            # logs a traceback ("cannot schedule new futures after shutdown") after our error.
            ckpt.close()
            raise
        restore_seconds = time.perf_counter() - start_restore
        state, start, saved_meta = setup.state, 0, None
        if restored is not None:
            start, state, saved_meta = restored
            echo(f"resumed from the checkpoint at step {start} ({restore_seconds:.2f} s)")
        total = config.training.steps
        finished_summary = _read_summary(workdir) if start >= total else None
        if restored is not None and finished_summary is not None:
            # A finished run run again: nothing to train, and its summary (and the
            # after-training tasks' results in it) stays as the run wrote it.
            echo(f"the run finished at step {start}; nothing to train "
                 f"({workdir / 'summary.json'} kept)")
            ckpt.close()
            meta = saved_meta or {}
            return RunResult(workdir, start, start, dict(meta.get("train") or {}),
                             dict(meta.get("eval") or {}), finished_summary)
        train_step, eval_step = self.compiled(setup)
        log = MetricsLog(workdir, total, resume_step=start, log_every=config.training.log_every,
                         interactive=interactive, echo=echo)
        try:
            with _stop_requests() as stop:
                run = _RunSteps(setup, eval_step, ckpt, log, stop,
                                last_saved=start if restored is not None else None,
                                saved_meta=saved_meta)
                fit(train_step, state, setup.batch, start=start, stop=total, hooks=[run])
        finally:
            ckpt.close()
            log.close()
        step_seconds = run.step_seconds
        summary = {
            "steps_run": total - start, "resumed_from": start,
            "first_step_seconds": run.first_step_seconds,   # compile + one step
            "steps_per_second": len(step_seconds) / sum(step_seconds) if step_seconds else None,
            "checkpoint_save_seconds": (float(np.median(ckpt.save_seconds))
                                        if ckpt.save_seconds else None),
            "checkpoint_restore_seconds": restore_seconds if restored else None,
            "final_train": run.train_metrics, "final_eval": run.eval_metrics,
            "eval_split": run.eval_split,
        }
        if run.test_metrics:
            summary["final_test"] = run.test_metrics
        if setup.data.info:
            summary["data"] = setup.data.info
        finished = FinishedRun(workdir, setup, echo)
        for name, task in tasks.items():
            summary[name] = task.after_training(finished)
        (workdir / "summary.json").write_text(json.dumps(summary, indent=1))
        plot_curves(workdir)
        return RunResult(workdir, total, start, run.train_metrics, run.eval_metrics, summary)

    def evaluate(self, workdir: str | Path, step: int | None = None) -> dict:
        """Evaluate the newest readable (or the given) checkpoint of a run folder on the test
        split (and the validation split, when the dataset has one)."""
        workdir = Path(workdir)
        config = stored_config(workdir)
        compilation_cache.enable(config.compilation.cache, config.compilation.cache_dir)
        setup = build_setup(config)
        if not (workdir / "checkpoints").is_dir():
            raise ConfigError(f"no checkpoints in {workdir}: {workdir / 'checkpoints'} not found")
        ckpt = Checkpoints(workdir / "checkpoints", config.checkpoint, read_only=True)
        try:
            restored = ckpt.restore(setup.state, step)
        finally:
            ckpt.close()
        if restored is None:
            raise ConfigError(f"no readable checkpoint in {workdir / 'checkpoints'}")
        got, state, _ = restored
        eval_step = self.compiled(setup)[1]
        batch_size = config.training.batch_size
        out = {"step": got, **run_eval(eval_step, state.params, setup.data, batch_size)}
        if setup.has_val:
            val = run_eval(eval_step, state.params, setup.data, batch_size, "val")
            out.update({f"val_{k}": v for k, v in val.items()})
        return out


def train(config: Config, workdir: str | Path, *, force_restart: bool = False, echo=print,
          interactive: bool | None = None, tasks: dict[str, Task] | None = None,
          trainer: Trainer | None = None) -> RunResult:
    """:meth:`Trainer.train` on ``trainer`` (a fresh one by default: it compiles anew)."""
    return (trainer or Trainer()).train(config, workdir, force_restart=force_restart, echo=echo,
                                        interactive=interactive, tasks=tasks)


def evaluate(workdir: str | Path, step: int | None = None, *,
             trainer: Trainer | None = None) -> dict:
    """:meth:`Trainer.evaluate` on ``trainer`` (a fresh one by default)."""
    return (trainer or Trainer()).evaluate(workdir, step)
