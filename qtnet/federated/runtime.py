"""Run a federation on this machine with Flower's deployment runtime: one SuperLink and one
SuperNode per client, each a separate process talking HTTP on localhost, then ``flwr run``.

Flower's simulation runtime needs Ray (``flwr[simulation]``), a large dependency that starts
its own cluster; the deployment runtime needs nothing beyond ``flwr`` and is the one a real
deployment uses, so it is the one used here (docs/federated.md). Everything Flower writes
(its home, the app bundle, logs) stays in the run folder.

Every process the run starts, and every process those start, ends with the run (normal exit,
error, SIGTERM): see :class:`ProcessTree`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import qtnet
from qtnet.federated.config import RUN_CONFIG_FILE, FederatedRun, check_resume, dump_run

SERVER_PID = "server.pid"     # written by the ServerApp process when it starts

APP_DIR = "flower_app"
COMPONENTS = {"serverapp": "qtnet.federated.flower_apps:server",
              "clientapp": "qtnet.federated.flower_apps:client"}


class FederationError(RuntimeError):
    """The federation did not finish (a process failed to start, or the server app failed)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flower_bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def write_app(workdir: Path) -> Path:
    """The Flower app folder ``flwr run`` bundles: a pyproject naming the two apps (they are
    imported from the installed qtnet) and the run folder as the app's config."""
    app = workdir / APP_DIR
    app.mkdir(parents=True, exist_ok=True)
    (app / "pyproject.toml").write_text(f"""\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "qtnet-federated"
version = "1.0.0"
description = "qtnet federated run"
license = "Apache-2.0"
dependencies = ["qtnet"]

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "qtnet"

[tool.flwr.app.components]
serverapp = "{COMPONENTS['serverapp']}"
clientapp = "{COMPONENTS['clientapp']}"

[tool.flwr.app.config]
run-folder = "{workdir.absolute()}"
""")
    return app


def _environment(home: Path) -> dict:
    env = dict(os.environ)
    root = str(Path(qtnet.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    env["FLWR_HOME"] = str(home)
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("FLWR_TELEMETRY_ENABLED", "0")     # runs offline: send Flower no events
    # A SuperNode's SuperExec looks for a ClientApp to start every second by default.
    env.setdefault("FLWR_SUPEREXEC_TASK_POLL_INTERVAL", "0.2")
    return env


def run_federation(run: FederatedRun, workdir: str | Path, *, echo=print,
                   timeout: float | None = None) -> None:
    """Start a SuperLink and ``run.federated.clients`` SuperNodes, run the app, stop them.

    The server app writes the checkpoints, ``rounds.jsonl`` and ``report.json`` in
    ``workdir``; a run folder with checkpoints resumes at its last completed round.

    Raises:
      ConfigError: ``workdir`` holds a run this one cannot resume (:func:`check_resume`).
      FederationError: a Flower process failed, or the run ended without a report.
    """
    workdir = Path(workdir).absolute()
    check_resume(workdir, run)
    workdir.mkdir(parents=True, exist_ok=True)
    dump_run(run, workdir / RUN_CONFIG_FILE)
    (workdir / "report.json").unlink(missing_ok=True)
    (workdir / SERVER_PID).unlink(missing_ok=True)
    app = write_app(workdir)
    home = workdir / "flower_home"
    logs = workdir / "flower_logs"
    home.mkdir(exist_ok=True)
    logs.mkdir(exist_ok=True)
    port = _free_port()
    (home / "config.toml").write_text(f'[superlink]\ndefault = "qtnet"\n\n[superlink.qtnet]\n'
                                      f'address = "127.0.0.1:{port}"\ninsecure = true\n')
    tree = ProcessTree(_environment(home), workdir, logs)
    previous = _stop_on_sigterm()
    try:
        superlink = tree.start("superlink", [
            _flower_bin("flower-superlink"), "--insecure",
            "--disable-runtime-dependency-installation", "--host", "127.0.0.1",
            "--port", str(port)])
        _wait_for_port(port, superlink, logs / "superlink.log")
        for i in range(run.federated.clients):
            tree.start(f"supernode-{i}", [
                _flower_bin("flower-supernode"), "--insecure",
                "--superlink", f"127.0.0.1:{port}", "--port", str(_free_port()),
                "--node-config", f"partition-id={i} num-partitions={run.federated.clients}"])
        echo(f"qtnet federated: SuperLink on 127.0.0.1:{port}, {run.federated.clients} "
             f"SuperNodes; logs in {logs}")
        flwr = tree.start("run", [_flower_bin("flwr"), "run", str(app), "qtnet", "--stream"])
        _watch(flwr, workdir / SERVER_PID, logs / "run.log", timeout, tree.reap_orphans)
    finally:
        t0 = time.monotonic()
        stopped = tree.stop()
        echo(f"qtnet federated: stopped {stopped} processes in {time.monotonic() - t0:.1f} s")
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if not (workdir / "report.json").is_file():
        tail = (logs / "run.log").read_text().splitlines()[-15:]
        raise FederationError("the server app ended without a report; the end of "
                              f"{logs / 'run.log'}:\n" + "\n".join(tail))


def _stop_on_sigterm():
    """Turn SIGTERM into a :class:`FederationError` (so the Flower processes are stopped on
    the way out, not orphaned); returns the previous handler (None off the main thread)."""
    def handler(signum, frame):
        raise FederationError("stopped by SIGTERM")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:              # not the main thread: leave signals alone
        return None


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FederationError(f"the SuperLink exited with status {proc.returncode}; "
                                  f"see {log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise FederationError(f"the SuperLink did not listen on port {port} within {seconds} s; "
                          f"see {log}")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:                 # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def _watch(flwr: subprocess.Popen, pid_file: Path, log: Path, timeout: float | None,
           every_poll=lambda: None) -> None:
    """Wait for ``flwr run`` to end; stop early if the ServerApp process died (Flower notices
    only after its heartbeat times out, about a minute later). ``every_poll()`` runs every
    half second."""
    deadline = None if timeout is None else time.monotonic() + timeout
    dead_since = None
    while flwr.poll() is None:
        every_poll()
        if deadline is not None and time.monotonic() > deadline:
            raise FederationError(f"the run did not finish within {timeout} s; see {log}")
        pid = int(pid_file.read_text()) if pid_file.is_file() else None
        if pid is not None and not _alive(pid):
            if (pid_file.parent / "report.json").is_file():
                return                                   # it finished; flwr is still closing
            dead_since = dead_since or time.monotonic()
            if time.monotonic() - dead_since > 1.0:
                raise FederationError(f"the ServerApp process ({pid}) died before the run "
                                      f"finished; see {log}")
        time.sleep(0.5)
    if flwr.returncode != 0:
        raise FederationError(f"flwr run exited with status {flwr.returncode}; see {log}")


_PR_SET_CHILD_SUBREAPER = 36      # linux/prctl.h


def _set_subreaper(on: bool) -> bool:
    """Make this process the reaper of its orphaned descendants (Linux), so that they stay in
    its process tree; False where that is not possible."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, int(on),
                                                       0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, tuple[int, str]] | None:
    """``{pid: (parent pid, state)}`` of every process (None without /proc)."""
    found = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for name in entries:
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue                    # ended meanwhile
            found[int(name)] = (int(fields[1]), fields[0])
    return found


class ProcessTree:
    """The processes of one federation and all their descendants, stopped together.

    Flower's SuperLink starts a SuperExec in a new session, each SuperNode a SuperExec, and the
    SuperExecs a ``flwr-serverapp`` / ``flwr-clientapp`` per task. Signalling only the
    processes started here left the rest to Flower's ``--parent-pid`` watch, and a ClientApp
    whose SuperExec had gone still ran after the run (it outlived it by 17 - 48 min): its exit
    path talks to its dead SuperNode through an HTTP client that retries refused connections
    without limit. Where init does not reap orphans (this machine; some containers) an exited
    SuperExec also stays a zombie, which the watch takes for a live parent. So every process
    started here leads its own process group, this process becomes the subreaper of its
    orphaned descendants (Linux) and reaps them while the run goes on, and :meth:`stop`
    signals every descendant, in a group or not, then kills and reaps what remains.
    """

    def __init__(self, env: dict, cwd: Path, logs: Path):
        self.env, self.cwd, self.logs = env, cwd, logs
        self.procs: list[subprocess.Popen] = []
        table = _parents()
        # Children this process had before the run are not the run's.
        self.foreign = {pid for pid, (ppid, _) in (table or {}).items() if ppid == os.getpid()}
        self.subreaper = _set_subreaper(True)

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("w") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                                    cwd=self.cwd, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def descendants(self) -> list[int]:
        """Live (not zombie) processes below this one that the run started."""
        table = _parents()
        if table is None:
            return [p.pid for p in self.procs if p.poll() is None]
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        found, todo = [], [p for p in children.get(os.getpid(), []) if p not in self.foreign]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return [pid for pid in found if table[pid][1] != "Z"]

    def reap_orphans(self) -> None:
        """Collect the exit status of orphans that died here (a zombie looks alive to the
        ``--parent-pid`` check of its children)."""
        mine = {p.pid for p in self.procs} | self.foreign
        for pid, (ppid, state) in (_parents() or {}).items():
            if ppid == os.getpid() and state == "Z" and pid not in mine:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)

    def _signal_all(self, sig: int) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)          # the process and its group
        for pid in self.descendants():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def stop(self, grace: float = 10.0) -> int:
        """SIGTERM to every process of the run (Flower shuts down gracefully), SIGKILL to
        those still running after ``grace`` seconds, and reap them all; returns how many
        were running."""
        running = len(self.descendants())
        try:
            self._signal_all(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self.descendants() and time.monotonic() < deadline:
                self.reap_orphans()
                time.sleep(0.1)
            for _ in range(10):                # a SuperExec may start a task meanwhile
                if not self.descendants():
                    break
                self._signal_all(signal.SIGKILL)
                time.sleep(0.1)
                self.reap_orphans()
            for proc in self.procs:
                proc.wait()
            self.reap_orphans()
        finally:
            if self.subreaper:
                _set_subreaper(False)
        return running
