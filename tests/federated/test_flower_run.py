"""The federation end to end on Flower's deployment runtime: a SuperLink and two SuperNodes
(separate processes on localhost) train the tiny config. Round 1: one client's process is
killed mid-round and the round completes with the other (federated.accept_failures; the
server stops waiting federated.straggler_timeout after the survivor's update); the ServerApp
process is then killed once round 1 is checkpointed, and the same command resumes at round 1
and finishes round 2 with both clients. One run for both faults (a module fixture) keeps the
tests to one federation start-up and one resume; the tests each check one claim about it
(several tests also put this module early in pytest-xdist's loadscope queue, which orders
modules by their number of tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("flwr", reason="the federated extra (flwr) is not installed")

ROOT = Path(__file__).resolve().parents[2]
# Seconds. The surviving client's first round, process start to reply, took 10 - 13.5 s at
# load average 10 - 13 on 2 cores: the round may take up to ROUND_TIMEOUT for it, and ends
# STRAGGLER_TIMEOUT after its update instead of waiting the timeout out for the dead client.
ROUND_TIMEOUT = 120
STRAGGLER_TIMEOUT = 1


def _command(workdir: Path, *sets: str) -> list[str]:
    return [sys.executable, "-m", "qtnet.federated", "--config",
            str(ROOT / "configs/federated/tiny.yaml"), "--workdir", str(workdir),
            *(a for s in sets for a in ("--set", s))]


def _env() -> dict:
    # The apps compile into the run folder's XLA cache, as a real run does (the suite turns
    # the cache off; round 2's processes then trace but do not compile again).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("QTNET_COMPILATION_CACHE", None)
    return env


def _client_apps(workdir: Path) -> dict[int, int]:
    """``{pid: partition}`` of the running ``flwr-clientapp`` processes of this run (they run
    in the run folder; the partition is on their SuperNode's command line)."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            if (not proc.name.isdigit() or b"flwr-clientapp" not in
                    (proc / "cmdline").read_bytes() or (proc / "cwd").resolve() != workdir):
                continue
            pid = int(proc.name)
            while pid > 1:          # up to the SuperNode that started it
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
                part = [a for a in cmd if a.startswith("partition-id=")]
                if part:
                    found[int(proc.name)] = int(part[0].split()[0].split("=")[1])
                    break
                pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue                # the process ended meanwhile
    return found


def _left_running(workdir: Path) -> list[str]:
    """Live processes of this run (their working folder or Flower home is in the run folder:
    every process the launcher starts, and what those start, inherits both)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (not proc.name.isdigit()
                    or (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"):
                continue
            if ((proc / "cwd").resolve().is_relative_to(workdir)
                    or f"FLWR_HOME={workdir}".encode() in (proc / "environ").read_bytes()):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError):
            continue
    return found


def _wait(what: str, until, proc: subprocess.Popen, seconds: float = 240):
    deadline = time.monotonic() + seconds
    while not (found := until()):
        assert proc.poll() is None, f"the run ended before {what}:\n{proc.stdout.read()}"
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.1)
    return found


@pytest.fixture(scope="module")
def federation(tmp_path_factory) -> SimpleNamespace:
    """Both commands of the fault scenario, run once; each test below checks one claim."""
    if not Path("/proc/self/cwd").exists():
        pytest.skip("finds processes in /proc")
    workdir = (tmp_path_factory.mktemp("flower") / "run").resolve()
    first = subprocess.Popen(_command(workdir, f"federated.round_timeout={ROUND_TIMEOUT}",
                                      f"federated.straggler_timeout={STRAGGLER_TIMEOUT}"),
                             env=_env(), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    apps = _wait("client process in round 1", lambda: _client_apps(workdir), first)
    killed_pid, killed = next(iter(apps.items()))
    os.kill(killed_pid, signal.SIGKILL)                       # a client dies mid-round
    _wait("checkpoint of round 1", (workdir / "manifests" / "1.json").is_file, first,
          ROUND_TIMEOUT + 120)
    os.kill(int((workdir / "server.pid").read_text()), signal.SIGKILL)   # then the ServerApp
    out, _ = first.communicate(timeout=120)
    left_after_first = _left_running(workdir)
    (round1,) = [json.loads(ln) for ln in (workdir / "rounds.jsonl").read_text().splitlines()]
    data_files = list((workdir / "data_cache").glob("*.pkl"))

    second = subprocess.run(_command(workdir) + ["--json"], env=_env(), cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    return SimpleNamespace(
        workdir=workdir, killed=killed, first=first, first_out=out, round1=round1,
        left_after_first=left_after_first, data_files=data_files, second=second,
        left_after_second=_left_running(workdir),
        log=[json.loads(ln) for ln in (workdir / "rounds.jsonl").read_text().splitlines()])


N_PARAMS = 2 * 1 * 1 * 6           # alice + bob, layers 1, depth 1, 6 qubits (ry_cz)


def test_a_killed_server_app_fails_the_command_which_says_how_to_resume(federation):
    assert federation.first.returncode == 1, federation.first_out
    assert "run the same command to resume" in federation.first_out


def test_no_process_outlives_either_command(federation):
    assert federation.left_after_first == []
    assert federation.left_after_second == []


def test_round_1_completes_with_the_surviving_client(federation):
    round1 = federation.round1
    assert round1["round"] == 1 and (round1["sampled"], round1["replied"]) == (2, 1)
    assert [c["client"] for c in round1["clients"].values()] == [1.0 - federation.killed]
    # The dead client still cost its download.
    assert round1["totals"]["bits_down"] == 2 * N_PARAMS * 32
    assert round1["totals"]["bits_up"] == N_PARAMS * 32


def test_clients_report_their_time_and_reuse_the_servers_data_and_programs(federation):
    (survivor,) = federation.round1["clients"].values()
    assert {"import_seconds", "build_seconds", "first_step_seconds"} <= set(survivor)
    assert len(federation.data_files) == 1
    assert any((federation.workdir / "xla_cache").rglob("*-cache"))


def test_the_same_command_resumes_after_round_1(federation):
    second = federation.second
    assert second.returncode == 0, second.stdout + second.stderr
    report = json.loads(second.stdout[second.stdout.index("{"):])
    assert report["resumed_from"] == 1 and report["rounds"] == 2
    assert [r["round"] for r in federation.log] == [1, 2]
    assert federation.log[0] == federation.round1
    assert (federation.workdir / "report.png").is_file()


def test_round_2_trains_both_clients_each_in_its_own_process(federation):
    round2 = federation.log[1]
    clients = round2["clients"].values()
    assert len(clients) == 2 and {c["client"] for c in clients} == {0.0, 1.0}
    server_pid = int((federation.workdir / "server.pid").read_text())
    assert all(c["pid"] != server_pid for c in clients)
    assert round2["totals"]["bits_up"] == 2 * N_PARAMS * 32
    assert round2["totals"]["quantum_qubits"] > 0
