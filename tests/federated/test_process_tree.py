"""The launcher's processes end with the run: a process the run started, and every process
that one started (a grandchild in its own session, whose parent already exited), is gone
after a normal stop and after SIGTERM to the launcher. No Flower here (test_flower_run.py
checks a real federation)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qtnet.federated.runtime import ProcessTree

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="reads the process table in /proc")

# A parent that starts a detached sleeper (new session, as Flower's SuperLink starts its
# SuperExec), prints its pid and exits: the sleeper is an orphan.
ORPHANING = ("import subprocess, sys; "
             "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], "
             "start_new_session=True); print(p.pid, flush=True)")


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for_pid(path: Path, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while not (path.is_file() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"nothing in {path} within {seconds} s"
        time.sleep(0.05)
    return int(path.read_text().split()[0])


def test_stop_ends_orphaned_grandchildren(tmp_path):
    tree = ProcessTree(dict(os.environ), tmp_path, tmp_path)
    parent = tree.start("parent", [sys.executable, "-c", ORPHANING])
    parent.wait(60)
    orphan = _wait_for_pid(tmp_path / "parent.log")
    assert _running(orphan)
    tree.stop(grace=5)
    assert not _running(orphan)
    assert not Path(f"/proc/{orphan}").exists()        # reaped, not a zombie


LAUNCHER = """
import sys, time
from pathlib import Path
from qtnet.federated.runtime import ProcessTree, _stop_on_sigterm
folder = Path(sys.argv[1])
tree = ProcessTree({}, folder, folder)
_stop_on_sigterm()
try:
    tree.start("parent", [sys.executable, "-c", sys.argv[2]])
    time.sleep(300)
finally:
    tree.stop(grace=5)
"""


def test_sigterm_to_the_launcher_ends_its_processes(tmp_path):
    root = Path(__file__).resolve().parents[2]
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(tmp_path), ORPHANING],
                                env={**os.environ, "PYTHONPATH": str(root)},
                                stderr=subprocess.PIPE, text=True)
    orphan = _wait_for_pid(tmp_path / "parent.log")
    os.kill(launcher.pid, signal.SIGTERM)
    _, err = launcher.communicate(timeout=60)
    assert launcher.returncode != 0 and "stopped by SIGTERM" in err
    assert not _running(orphan)
