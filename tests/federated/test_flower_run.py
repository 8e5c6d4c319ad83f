"""The federation end to end on Flower's deployment runtime: a SuperLink and two SuperNodes
(separate processes on localhost) train the tiny config; the ServerApp process is killed after
round 1 is checkpointed, and the same command resumes at round 1 and finishes round 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("flwr", reason="the federated extra (flwr) is not installed")

ROOT = Path(__file__).resolve().parents[2]


def _command(workdir: Path) -> list[str]:
    return [sys.executable, "-m", "qtnet.federated", "--config",
            str(ROOT / "configs/federated/tiny.yaml"), "--workdir", str(workdir)]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_server_killed_after_round_one_resumes_there(tmp_path):
    workdir = tmp_path / "run"
    first = subprocess.Popen(_command(workdir), env=_env(), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    saved = workdir / "manifests" / "1.json"
    deadline = time.monotonic() + 240
    while not saved.is_file():
        assert first.poll() is None, f"the run ended before round 1 was saved:\n" \
                                     f"{first.stdout.read()}"
        assert time.monotonic() < deadline, "round 1 was not checkpointed within 240 s"
        time.sleep(0.5)
    os.kill(int((workdir / "server.pid").read_text()), signal.SIGKILL)   # the ServerApp
    out, _ = first.communicate(timeout=120)
    assert first.returncode == 1, out
    assert "run the same command to resume" in out
    rounds = [json.loads(ln)["round"] for ln in (workdir / "rounds.jsonl").read_text().splitlines()]
    assert rounds[0] == 1

    second = subprocess.run(_command(workdir) + ["--json"], env=_env(), cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    report = json.loads(second.stdout[second.stdout.index("{"):])
    assert report["resumed_from"] == 1 and report["rounds"] == 2
    log = [json.loads(ln) for ln in (workdir / "rounds.jsonl").read_text().splitlines()]
    assert [r["round"] for r in log] == [1, 2]
    clients = log[1]["clients"].values()
    assert len(clients) == 2 and {c["client"] for c in clients} == {0.0, 1.0}
    # Each client trained in its own process, not in the server's.
    server_pid = int((workdir / "server.pid").read_text())
    assert all(c["pid"] != server_pid for c in clients)
    n_params = 2 * 1 * 1 * 6           # alice + bob, layers 1, depth 1, 6 qubits (ry_cz)
    assert log[1]["totals"]["bits_up"] == 2 * n_params * 32
    assert log[1]["totals"]["quantum_qubits"] > 0
    assert (workdir / "report.png").is_file()
