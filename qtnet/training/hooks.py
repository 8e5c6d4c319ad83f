"""After-training tasks: work a model or experiment adds to a run, registered by name.

A task is named after the config section that configures it and runs when that section's
``evaluate`` is true (``circuit.evaluate`` runs the task registered as ``circuit``). The trainer
checks every requested task before compiling anything and runs them after the last step; each
result goes into ``summary.json`` under the task's name. A new model's extra evaluation is a
config section plus::

    @register_task("my_section")
    class MyEvaluation:
        def check(self, setup): ...          # raise ConfigError if it cannot apply
        def after_training(self, run): ...   # return a JSON-able dict
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from qtnet.config import Config, ConfigError
from qtnet.registry import Registry
from qtnet.training.checkpoint import Checkpoints
from qtnet.training.metrics_log import read_metrics
from qtnet.training.setup import Setup


@dataclasses.dataclass
class FinishedRun:
    """What an after-training task may use: the run folder, its setup, the checkpoints."""

    workdir: Path
    setup: Setup
    echo: Callable[[str], None] = print

    @property
    def config(self) -> Config:
        return self.setup.config

    def saved_steps(self) -> list[int]:
        ckpt = Checkpoints(self.workdir / "checkpoints", self.config.checkpoint)
        try:
            return ckpt.steps()
        finally:
            ckpt.close()

    def best_step(self, metric: str = "accuracy") -> int:
        """The saved step with the highest eval (validation) ``metric``; earliest on a tie."""
        value = {r["step"]: r[metric] for r in read_metrics(self.workdir / "metrics.jsonl")
                 if r.get("split") == "eval"}
        return max(self.saved_steps(), key=lambda s: (value.get(s, -1.0), -s))

    def restore(self, step: int):
        """The TrainState saved at ``step``."""
        ckpt = Checkpoints(self.workdir / "checkpoints", self.config.checkpoint)
        try:
            _, state, _ = ckpt.restore(self.setup.state, step)
        finally:
            ckpt.close()
        return state


class Task(Protocol):
    """An after-training task (see the module docstring)."""

    def check(self, setup: Setup) -> None:
        """Raise :class:`~qtnet.config.ConfigError` if the task cannot apply to this run."""

    def after_training(self, run: FinishedRun) -> dict:
        """Do the work; the result goes to ``summary.json`` under the task's name."""


_TASKS: Registry[Callable[[], Task]] = Registry("after-training task")


def register_task(name: str):
    """Decorator: register a task factory (a class, usually) under a config section's name."""
    return lambda factory: _TASKS.register(name, factory)


def available_tasks() -> list[str]:
    return sorted(_TASKS.names())


def requested_tasks(config: Config) -> list[str]:
    """Names of the config sections whose ``evaluate`` is true, in config order."""
    return [f.name for f in dataclasses.fields(config)
            if getattr(getattr(config, f.name), "evaluate", False) is True]


def tasks_for(config: Config) -> dict[str, Task]:
    """The tasks the config requests, by name; one that nobody registered is an error."""
    tasks = {}
    for name in requested_tasks(config):
        if name not in _TASKS:
            raise ConfigError(
                f"{name}.evaluate: no after-training task {name!r} is registered (registered: "
                f"{', '.join(available_tasks()) or 'none'}); import the module that registers "
                f"it (the paper's circuit evaluation: qtnet.experiments)")
        tasks[name] = _TASKS.get(name)()
    return tasks
