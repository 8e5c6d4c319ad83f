"""Run folders: one writer at a time (a lock a killed run does not leave behind), refusing a
resume that changes a resume-sensitive setting, folders that cannot be run folders."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qtnet.training import Trainer, read_metrics
from qtnet.training import loop
from qtnet.training.cli import train_main

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "tiny.yaml")
MLP = ["model.type=mlp", "model.hidden=8", "training.batch_size=8", "training.log_every=1",
       "training.steps=1", "metering.enabled=false"]


@pytest.fixture(scope="module")
def trainer():
    return Trainer()          # one compilation for the whole module


def _train(workdir, trainer, *sets):
    args = ["--config", TINY, "--workdir", str(workdir)]
    for s in (*MLP, *sets):
        args += ["--set", s]
    return train_main(args, trainer=trainer)


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


HOLD = """
import sys, time
from qtnet.training.lock import RunFolderLock
RunFolderLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_second_writer_is_refused_and_a_killed_holder_leaves_no_lock(tmp_path, trainer,
                                                                        capsys):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert _train(tmp_path, trainer) == 2
        err = _one_line(capsys)
        assert f"the run folder {tmp_path} is in use by another run (pid {holder.pid} on " \
               f"host {os.uname().nodename}, started " in err
        assert not (tmp_path / "config.yaml").exists() and not (tmp_path / "checkpoints").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (tmp_path / ".lock").read_text()          # the killed holder's record is still there
    assert _train(tmp_path, trainer) == 0            # ... and does not block the next run
    assert (tmp_path / "checkpoints" / "1").is_dir()


def test_a_running_train_refuses_a_second_and_its_sigkill_does_not_block_the_resume(
        tmp_path, trainer, capsys):
    cmd = [sys.executable, "-m", "train", "--config", TINY, "--workdir", str(tmp_path)]
    for s in (*MLP, "training.steps=100000", "checkpoint.every=5"):
        cmd += ["--set", s]
    first = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "manifests" / "5.json").is_file():
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
            time.sleep(0.05)
        assert _train(tmp_path, trainer, "training.steps=10", "checkpoint.every=5") == 2
        assert f"is in use by another run (pid {first.pid} on host " in _one_line(capsys)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    logged = max(r["step"] for r in read_metrics(tmp_path / "metrics.jsonl"))
    assert _train(tmp_path, trainer, f"training.steps={logged + 1}", "checkpoint.every=5") == 0
    assert "resumed from the checkpoint at step " in capsys.readouterr().out


def test_a_full_disk_outside_a_checkpoint_is_one_line(tmp_path, trainer, capsys, monkeypatch):
    def full(_config, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(loop, "dump_yaml", full)
    assert _train(tmp_path, trainer) == 2
    assert _one_line(capsys) == (f"qtnet-train: error: No space left on device: "
                                 f"{tmp_path / 'config.yaml'}")


def test_a_stale_lock_file_does_not_block_a_resume(tmp_path, trainer, capsys):
    assert _train(tmp_path, trainer) == 0
    (tmp_path / ".lock").write_text('{"pid": 999999, "host": "gone", "started": "then"}')
    assert _train(tmp_path, trainer, "training.steps=2") == 0
    assert "resumed from the checkpoint at step 1" in capsys.readouterr().out


@pytest.mark.parametrize("change, stored, new", [
    ("training.seed=1", "training.seed=0", "1"),
    ("training.batch_size=4", "training.batch_size=8", "4"),
    ("schedule.type=cosine", "schedule.type='constant'", "'cosine'"),
    ("schedule.warmup_steps=1", "schedule.warmup_steps=0", "1"),
    ("schedule.end_factor=0.5", "schedule.end_factor=0.0", "0.5"),
])
def test_a_resume_that_changes_the_seed_batch_or_schedule_is_refused(tmp_path, trainer, capsys,
                                                                      change, stored, new):
    assert _train(tmp_path, trainer) == 0
    capsys.readouterr()
    assert _train(tmp_path, trainer, "training.steps=2", change) == 2
    err = _one_line(capsys)
    assert f"holds a run with {stored}, this config has {new}; pass --force-restart" in err
    assert not (tmp_path / "checkpoints" / "2").exists()


def test_more_steps_under_a_cosine_schedule_resume_with_a_warning(tmp_path, trainer, capsys):
    assert _train(tmp_path, trainer, "schedule.type=cosine") == 0
    capsys.readouterr()
    assert _train(tmp_path, trainer, "schedule.type=cosine", "training.steps=2") == 0
    out = capsys.readouterr().out
    assert "warning: training.steps changed from 1 to 2; the cosine schedule" in out
    assert "resumed from the checkpoint at step 1" in out


@pytest.mark.parametrize("where, message", [
    ("file", "the run folder {w} is a file; pass a folder as --workdir"),
    ("file/run", "the run folder {w} lies under {f}, which is a file; pass a folder"),
])
def test_a_workdir_that_is_or_lies_under_a_file_is_refused(tmp_path, capsys, where, message):
    (tmp_path / "file").write_text("not a folder")
    workdir = tmp_path / where
    assert _train(workdir, None) == 2
    assert message.format(w=workdir, f=tmp_path / "file") in _one_line(capsys)
    assert (tmp_path / "file").read_text() == "not a folder"
