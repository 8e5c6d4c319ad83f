"""Checkpoints a restore cannot use: damage is set aside (and the previous one used), while an
unreadable file or a tree that no longer fits stops with one line and moves nothing; a
garbage manifest does not condemn a good checkpoint; a failed save leaves nothing behind."""

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import orbax.checkpoint as ocp
import pytest

from qtnet.config import Config, load
from qtnet.training import Checkpoints, CheckpointWarning, Trainer, build_setup
from qtnet.training.cli import eval_main, train_main
from qtnet.training.run_folder import RunFolderError

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "tiny.yaml")
MLP = ["model.type=mlp", "model.hidden=8", "training.batch_size=8", "training.log_every=1",
       "metering.enabled=false", "training.steps=4"]          # checkpoints at 2 and 4


def _config(*sets):
    return load(Config, TINY, [*MLP, *sets])


def _args(workdir, *sets):
    out = ["--config", TINY, "--workdir", str(workdir)]
    for s in (*MLP, *sets):
        out += ["--set", s]
    return out


@pytest.fixture(scope="module")
def trainer():
    return Trainer()


@pytest.fixture(scope="module")
def finished(tmp_path_factory, trainer):
    """A finished 4-step run (checkpoints at steps 2 and 4); copy it before changing it."""
    workdir = tmp_path_factory.mktemp("finished")
    trainer.train(_config(), workdir, echo=lambda *_: None, interactive=False)
    return workdir


@pytest.fixture
def run(finished, tmp_path):
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"


def _tree(workdir) -> dict:
    """Every file under a run folder's checkpoints/ and manifests/ with its bytes."""
    return {p.relative_to(workdir).as_posix(): p.read_bytes()
            for d in ("checkpoints", "manifests") for p in sorted((workdir / d).rglob("*"))
            if p.is_file()}


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


def _truncate_data(workdir, step):
    files = sorted((workdir / "checkpoints" / str(step) / "state").rglob("d/*"))
    assert files
    for f in files:
        f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])


def test_a_tree_that_no_longer_fits_stops_naming_the_leaf_and_moves_nothing(run, trainer,
                                                                            capsys):
    # A code change the config does not show (here: the stored config is gone, so the
    # resume-sensitive check cannot see the wider layer) gives a different state tree.
    (run / "config.yaml").unlink()
    before = _tree(run)
    assert train_main(_args(run, "model.hidden=16", "training.steps=6"), trainer=trainer) == 2
    err = _one_line(capsys)
    assert (f"the checkpoint at step 4 in {run / 'checkpoints'} does not fit: leaf "
            f"params.hidden.bias expected shape (16,) float32, found (8,) float32") in err
    assert "--force-restart" in err
    assert _tree(run) == before and not (run / "corrupt").exists()


def test_a_missing_or_extra_leaf_is_named(run):
    config = _config()
    ckpt = Checkpoints(run / "checkpoints", config.checkpoint)
    state = build_setup(config).state
    with pytest.raises(RunFolderError, match="has a leaf rng this run does not expect"):
        ckpt.restore(state.replace(rng=None))
    with pytest.raises(RunFolderError, match=r"leaf rng expected shape \(2,\) int32, found "
                                             r"\(2,\) uint32"):
        ckpt.restore(state.replace(rng=np.zeros(2, np.int32)))
    with pytest.raises(RunFolderError, match="has no leaf params.extra.kernel"):
        ckpt.restore(state.replace(params={**state.params, "extra": {"kernel": np.zeros(3)}}))
    ckpt.close()
    assert ckpt.steps() == [2, 4] and not (run / "corrupt").exists()


def test_a_garbage_manifest_does_not_set_a_good_checkpoint_aside(run):
    (run / "manifests" / "4.json").write_text("{not json")
    config = _config()
    ckpt = Checkpoints(run / "checkpoints", config.checkpoint)
    with pytest.warns(CheckpointWarning, match=f"the manifest {run / 'manifests' / '4.json'} "
                                               f"cannot be parsed .*checking the checkpoint at "
                                               f"step 4 without it"):
        step, _, meta = ckpt.restore(build_setup(config).state)
    ckpt.close()
    assert step == 4 and meta["data_position"] == 4
    assert not (run / "corrupt").exists() and ckpt.steps() == [2, 4]


def test_eval_of_a_damaged_step_is_one_line_and_touches_nothing(run, trainer, capsys):
    _truncate_data(run, 4)
    in_flight = run / "checkpoints" / "6.orbax-checkpoint-tmp-9"     # a trainer's save
    in_flight.mkdir()
    (in_flight / "part").write_text("being written")
    before = _tree(run)
    assert eval_main(["--workdir", str(run), "--step", "4"], trainer=trainer) == 2
    err = _one_line(capsys)
    assert f"the checkpoint at step 4 in {run / 'checkpoints'} is damaged (file state/" in err
    assert "available: [2, 4]" in err
    assert eval_main(["--workdir", str(run)], trainer=trainer) == 0      # newest usable: 2
    out, err = capsys.readouterr()
    assert '"step": 2' in out and err.startswith("warning: the checkpoint at step 4 ")
    assert err.count("\n") == 1 and "trying the previous one" in err
    assert _tree(run) == before and not (run / "corrupt").exists()




@pytest.mark.parametrize("manifest", [True, False])
def test_a_damaged_checkpoint_falls_back_quietly(run, manifest):
    """Damage is set aside with one warning and the previous checkpoint resumes; without a
    manifest orbax's failed read must not spray "Event loop is closed" tracebacks."""
    _truncate_data(run, 4)
    if not manifest:
        (run / "manifests" / "4.json").unlink()
    proc = subprocess.run([sys.executable, "-m", "train", *_args(run, "training.steps=6")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Event loop is closed" not in proc.stderr, \
        proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"warning: checkpoint at step 4 in {run / 'checkpoints'} cannot be read: it is damaged ("
    ) and "moved to" in lines[0], proc.stderr
    assert "resumed from the checkpoint at step 2" in proc.stdout
    assert len(list((run / "corrupt").iterdir())) == (2 if manifest else 1)


def test_a_full_disk_at_a_save_keeps_the_earlier_checkpoints(run, trainer, capsys, monkeypatch):
    real_save = ocp.CheckpointManager.save

    def full_disk(manager, step, *args, **kwargs):
        if step == 6:
            (run / "checkpoints" / "6.orbax-checkpoint-tmp-1").mkdir()   # as orbax leaves it
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(manager, step, *args, **kwargs)

    monkeypatch.setattr(ocp.CheckpointManager, "save", full_disk)
    assert train_main(_args(run, "training.steps=8"), trainer=trainer) == 2
    err = _one_line(capsys)
    assert (f"cannot save the checkpoint at step 6 in {run / 'checkpoints'}: no space left on "
            f"the device; the checkpoints saved before are kept (newest: step 4)") in err
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["2", "4"]
    assert sorted(p.name for p in (run / "manifests").iterdir()) == ["2.json", "4.json"]
    monkeypatch.setattr(ocp.CheckpointManager, "save", real_save)
    assert train_main(_args(run, "training.steps=8"), trainer=trainer) == 0
    assert "resumed from the checkpoint at step 4" in capsys.readouterr().out


def _as_nobody(args, cwd=ROOT):
    """Run ``python args...`` as the unprivileged user (root reads and writes anything)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to drop privileges")
    home = tempfile.mkdtemp()
    os.chmod(home, 0o777)
    env = {**os.environ, "HOME": home, "MPLCONFIGDIR": home, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def shared_run(finished):
    """A copy of the finished run where the unprivileged user can reach it (not under
    pytest's root-only tmp folder), removed afterwards."""
    top = Path(tempfile.mkdtemp())
    os.chmod(top, 0o755)
    shutil.copytree(finished, top / "run")
    subprocess.run(["chmod", "-R", "go+rX", str(top / "run")], check=True)   # readable by all
    yield top / "run"
    shutil.rmtree(top)


def test_a_read_only_run_folder_is_one_line(shared_run):
    before = _tree(shared_run)
    proc = _as_nobody(["-m", "train", *_args(shared_run, "training.steps=6")])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (f"python -m train: error: cannot write to the run folder "
                                   f"{shared_run}: permission denied; use a writable --workdir")
    evaluated = _as_nobody(["-c", "import sys; from qtnet.training.cli import eval_main; "
                                  "sys.exit(eval_main(sys.argv[1:]))", "--workdir",
                            str(shared_run)])                 # reading needs no write
    assert evaluated.returncode == 0 and '"step": 4' in evaluated.stdout, evaluated.stderr
    assert _tree(shared_run) == before


def test_an_unreadable_checkpoint_file_stops_and_moves_nothing(shared_run):
    subprocess.run(["chown", "-R", "65534:65534", str(shared_run)], check=True)
    data = sorted((shared_run / "checkpoints" / "4" / "state").rglob("d/*"))[0]
    os.chown(data, 0, 0)
    data.chmod(0o600)
    before = _tree(shared_run)
    proc = _as_nobody(["-m", "train", *_args(shared_run, "training.steps=6")])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (f"python -m train: error: cannot read {data}: permission "
                                   f"denied; fix its permissions (the checkpoint is not damaged "
                                   f"and was left as it is)")
    assert _tree(shared_run) == before and not (shared_run / "corrupt").exists()
