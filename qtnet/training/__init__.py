"""Training: datasets, the jitted steps, orbax checkpoints, metrics, and the resumable loop."""

from qtnet.training.checkpoint import Checkpoints, CheckpointWarning
from qtnet.data import Dataset, available_datasets, load_dataset, register_dataset
from qtnet.training.batches import batch_indices
from qtnet.training.loop import NonFiniteLossError, RunResult, Stopped, evaluate, train
from qtnet.training.metrics_log import read_metrics
from qtnet.training.steps import TrainState, init_state, make_eval_step, make_train_step

__all__ = [
    "CheckpointWarning", "Checkpoints", "Dataset", "NonFiniteLossError", "RunResult", "Stopped",
    "TrainState", "available_datasets", "batch_indices", "evaluate", "init_state",
    "load_dataset", "make_eval_step", "make_train_step", "read_metrics", "register_dataset",
    "train",
]
