"""Resume is exact: a run killed (SIGKILL), stopped (SIGTERM) or left with a damaged checkpoint
and then restarted with the same command ends with the parameters and metrics of the run that
was never interrupted. Each run is a separate ``python -m train`` process."""

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from qtnet.config import Config, load
from qtnet.training import Checkpoints, read_metrics
from qtnet.training import build_setup

ROOT = Path(__file__).resolve().parents[2]
STEPS = 300
SETTINGS = [f"training.steps={STEPS}", "checkpoint.every=25", "checkpoint.keep=3",
            "training.eval_every=50", "training.log_every=50"]
# The circuit model for the SIGKILL test; the (faster to compile) classical baseline for the
# SIGTERM and damaged-checkpoint tests, which exercise the same checkpoint machinery.
MLP = ["model.type=mlp", "model.hidden=16"]
pytestmark = pytest.mark.slow


def _command(workdir, extra=()):
    sets = [a for s in (*SETTINGS, *extra) for a in ("--set", s)]
    return [sys.executable, "-m", "train", "--config", "configs/tiny.yaml",
            "--workdir", str(workdir), *sets]


def _run(workdir, extra=()):
    proc = subprocess.run(_command(workdir, extra), cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def _final_params(workdir, extra):
    config = load(Config, ROOT / "configs" / "tiny.yaml", [*SETTINGS, *extra])
    step, state, _ = Checkpoints(workdir / "checkpoints", config.checkpoint).restore(
        build_setup(config).state)
    assert step == STEPS
    return state


def _assert_same_run(a, b, extra=()):
    for x, y in zip(jax.tree.leaves(_final_params(a, extra)),
                    jax.tree.leaves(_final_params(b, extra))):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert read_metrics(a / "metrics.jsonl") == read_metrics(b / "metrics.jsonl")


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("straight")
    _run(workdir)
    return workdir


@pytest.fixture(scope="module")
def straight_mlp(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("straight_mlp")
    _run(workdir, MLP)
    return workdir


def _start_and_wait(workdir, min_step, extra=()):
    """Start a run and return the process once it has logged ``min_step`` training steps."""
    proc = subprocess.Popen(_command(workdir, extra), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        steps = [r["step"] for r in read_metrics(workdir / "metrics.jsonl")]
        if steps and max(steps) >= min_step:
            return proc
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"run ended or stalled before step {min_step}: {proc.communicate()[1][-2000:]}")


def test_sigkill_then_restart_is_bit_for_bit_the_straight_run(straight, tmp_path):
    proc = _start_and_wait(tmp_path, 60)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    logged = max(r["step"] for r in read_metrics(tmp_path / "metrics.jsonl"))
    assert logged < STEPS, "the run finished before it was killed"
    out = _run(tmp_path).stdout
    assert "resumed from the checkpoint at step" in out
    _assert_same_run(straight, tmp_path)


def test_sigterm_saves_then_resumes_exactly(straight_mlp, tmp_path):
    proc = _start_and_wait(tmp_path, 60, MLP)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    stopped = int(err.split("stopped by SIGTERM at step ")[1].split(";")[0])
    config = load(Config, ROOT / "configs" / "tiny.yaml", [*SETTINGS, *MLP])
    assert max(Checkpoints(tmp_path / "checkpoints", config.checkpoint).steps()) == stopped
    assert f"resumed from the checkpoint at step {stopped}" in _run(tmp_path, MLP).stdout
    _assert_same_run(straight_mlp, tmp_path, MLP)


def test_damaged_latest_checkpoint_falls_back_to_the_previous(straight_mlp, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(straight_mlp, run)
    # A save killed part-way (truncated data file) and one killed before its rename.
    data_files = sorted((run / "checkpoints" / str(STEPS) / "state").rglob("d/*"))
    for f in data_files:
        f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])
    killed_save = run / "checkpoints" / f"{STEPS + 25}.orbax-checkpoint-tmp-1"
    killed_save.mkdir()
    proc = _run(run, MLP)
    assert not killed_save.exists()                    # removed when the run reopened
    assert f"checkpoint at step {STEPS} " in proc.stderr and "cannot be read" in proc.stderr
    assert f"resumed from the checkpoint at step {STEPS - 25}" in proc.stdout
    assert any((run / "corrupt").iterdir())
    _assert_same_run(straight_mlp, run, MLP)
