"""The step loop every training path runs: one jitted step per iteration, then the hooks."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

import jax


class StepHook(Protocol):
    """Called after every step; raising an exception stops the run."""

    def after_step(self, done: int, state, metrics: dict[str, float], seconds: float) -> None:
        """Args:
          done: steps done so far (the step just run is ``done - 1``).
          state: the training state after the step.
          metrics: the step's measurements, as Python floats.
          seconds: wall time of the step (batch, update, fetching the metrics).
        """


class Every:
    """A :class:`StepHook` that calls ``fn(done, state)`` every ``n`` steps."""

    def __init__(self, n: int, fn: Callable[[int, object], None]):
        self.n, self.fn = n, fn

    def after_step(self, done: int, state, metrics: dict[str, float], seconds: float) -> None:
        if done % self.n == 0:
            self.fn(done, state)


def fit(train_step, state, batch_at: Callable[[int], dict], *, start: int, stop: int,
        hooks: Sequence[StepHook] = ()):
    """Run steps ``start .. stop - 1``: ``state, metrics = train_step(state, batch_at(step))``,
    then every hook in order.

    Args:
      train_step: ``(state, batch) -> (state, metrics)`` (see ``make_train_step``).
      state: the state before step ``start``.
      batch_at: the batch of a step (a pure function of the step, so a resume is exact).
      start: first step to run.
      stop: steps done when the loop ends.
      hooks: measurement, evaluation, checkpointing, stopping (see :class:`StepHook`).

    Returns:
      The state after step ``stop - 1``.
    """
    for step in range(start, stop):
        t0 = time.perf_counter()
        state, metrics = train_step(state, batch_at(step))
        metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
        seconds = time.perf_counter() - t0
        for hook in hooks:
            hook.after_step(step + 1, state, metrics, seconds)
    return state
