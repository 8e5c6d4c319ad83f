"""A run folder: its stored config, refusing an incompatible resume, moving an old run aside."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from qtnet.config import RESUME_SENSITIVE, Config, ConfigError, read_run_config

CONFIG_FILE = "config.yaml"
# Training settings (beside the RESUME_SENSITIVE sections) a resume must not change: the batch
# of step s is a function of (seed, batch_size, s).
RESUME_SENSITIVE_KEYS = (("training", "seed"), ("training", "batch_size"))
RUN_FILES = ("checkpoints", "manifests", "corrupt", "metrics.jsonl", "tensorboard", CONFIG_FILE,
             "curves.png", "summary.json")


class RunFolderError(ConfigError):
    """A run folder that cannot be used as it is (locked, not writable, not a folder, holding
    an unreadable or incompatible checkpoint): the message names the path and what to do."""


def prepare(workdir: Path) -> None:
    """Create ``workdir`` (and its parents) or say in one line why it cannot be a run folder."""
    for path in (workdir, *workdir.parents):
        if path.exists() and not path.is_dir():
            where = "is a file" if path == workdir else f"lies under {path}, which is a file"
            raise RunFolderError(f"the run folder {workdir} {where}; pass a folder as --workdir")
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunFolderError(f"cannot create the run folder {workdir}: "
                             f"{err.strerror or err}") from None
    if not os.access(workdir, os.W_OK | os.X_OK):
        raise RunFolderError(f"cannot write to the run folder {workdir}: permission denied; "
                             f"use a writable --workdir")


def stored_config(workdir: Path) -> Config:
    """The config a run folder was trained with."""
    path = workdir / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"no run in {workdir}: {path} not found")
    return read_run_config(path)


def check_compatible(workdir: Path, config: Config, force_restart: bool, echo=print) -> None:
    """Refuse to resume a run whose resume-sensitive sections differ, unless
    ``force_restart`` (then the old run is moved aside)."""
    stored_path = workdir / CONFIG_FILE
    has_run = (workdir / "checkpoints").is_dir() and any((workdir / "checkpoints").iterdir())
    if not has_run:
        return
    if force_restart:
        archive(workdir)
        return
    if not stored_path.is_file():
        return
    stored = dataclasses.asdict(read_run_config(stored_path))
    current = dataclasses.asdict(config)
    keys = [(sec, key) for sec in RESUME_SENSITIVE for key in current[sec]]
    for sec, key in [*keys, *RESUME_SENSITIVE_KEYS]:
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


def archive(workdir: Path) -> Path:
    """Move a run's files into ``superseded-<time>/``; returns that folder."""
    target = workdir / f"superseded-{time.strftime('%Y%m%d-%H%M%S')}"
    target.mkdir()
    for name in RUN_FILES:
        if (workdir / name).exists():
            (workdir / name).rename(target / name)
    return target
