"""Training: the generic trainer (steps, loop, checkpoints, metrics, optimisers, tasks, CLI)."""

from qtnet.training.checkpoint import Checkpoints, CheckpointWarning
from qtnet.training.batches import batch_indices
from qtnet.training.fit import Every, StepHook, fit
from qtnet.training.hooks import FinishedRun, Task, available_tasks, register_task
from qtnet.training.loop import (NonFiniteLossError, RunResult, Stopped, Trainer, evaluate,
                                 train)
from qtnet.training.metrics_log import read_metrics
from qtnet.training.optim import make_optimizer, step_decay_schedule
from qtnet.training.setup import Setup, build_setup
from qtnet.training.steps import (TrainState, accumulated_cross_entropy, cross_entropy,
                                  init_state, make_eval_step, make_logits_fn, make_train_step,
                                  new_state)

__all__ = [
    "CheckpointWarning", "Checkpoints", "Every", "FinishedRun", "NonFiniteLossError",
    "RunResult", "Setup", "StepHook", "Stopped", "Task", "TrainState", "Trainer",
    "accumulated_cross_entropy", "available_tasks", "batch_indices", "build_setup",
    "cross_entropy", "evaluate", "fit", "init_state", "make_eval_step", "make_logits_fn",
    "make_optimizer", "make_train_step", "new_state", "read_metrics", "register_task",
    "step_decay_schedule", "train",
]
