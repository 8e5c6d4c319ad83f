"""orbax checkpoints of the training state: keep the last k and the best, tell damage apart.

Layout of a run folder's ``checkpoints/``: one orbax step folder per save, each with two items,
``state`` (the TrainState pytree: step, params, optimiser state, RNG) and ``meta`` (JSON: the
resolved config, the data position, the metrics at that step). Each finished save also writes
``manifests/<step>.json`` (size and SHA-256 of every file).

What a restore does with a checkpoint it cannot use:

* **damaged** (a file missing, truncated or not matching its manifest checksum; orbax cannot
  read it; non-finite values): moved to ``corrupt/`` with a warning, and the previous one is
  used (a kill during the write, a bad disk block). Restoring one named step refuses instead.
* **unreadable** (no permission to read a file) or **incompatible** (the stored pytree differs
  from the one this code and config build: a leaf missing or extra, another shape or dtype):
  :class:`~qtnet.training.run_folder.RunFolderError` naming the path or the leaf, expected vs
  found; nothing is moved. Those are not damage: the checkpoint is fine, the reader is not.
* a manifest that cannot be parsed is damage of the manifest, not of the checkpoint: the
  checkpoint is checked without it (orbax reads every file) and a warning names the manifest.

A save that fails (a full disk, a folder turned read-only) removes its half-written orbax
folder and manifest and raises :class:`~qtnet.training.run_folder.RunFolderError`; the
checkpoints saved before stay.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers as policies

from qtnet.config import CheckpointConfig
from qtnet.training.run_folder import RunFolderError


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped because it is damaged, or its manifest cannot be parsed."""


class CheckpointDamaged(Exception):
    """One checkpoint's files differ from what was written (the message says how)."""


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200]}" if text else type(err).__name__


class Checkpoints:
    """Save and restore :class:`TrainState` pytrees plus JSON metadata in ``directory``."""

    def __init__(self, directory: str | Path, config: CheckpointConfig, *,
                 read_only: bool = False):
        """Args:
          read_only: only read (an evaluation beside a running trainer): create nothing,
            remove no tmp folder of a save in progress, set nothing aside.
        """
        self.directory = Path(directory).absolute()
        self.config = config
        self.read_only = read_only
        self.save_seconds: list[float] = []
        self._manager: ocp.CheckpointManager | None = self._open()

    def _open(self) -> ocp.CheckpointManager:
        keep = [policies.LatestN(n=self.config.keep)]
        if self.config.best_metric:
            metric, sign = self.config.best_metric, self.config.best_mode == "min"
            keep.append(policies.BestN(get_metric_fn=lambda m: m[metric], reverse=sign, n=1,
                                       keep_checkpoints_without_metrics=False))
        writable = not self.read_only
        if writable:
            # What a save killed midway left. Removed here, in this thread: orbax's own
            # clean-up runs on a background thread that close() does not wait for, and one
            # still running when the process exits early logs a traceback after our error.
            for tmp in self.directory.glob("*.orbax-checkpoint-tmp*"):
                shutil.rmtree(tmp, ignore_errors=True)
        options = ocp.CheckpointManagerOptions(
            preservation_policy=policies.AnyPreservationPolicy(keep),
            # Saves are small (circuit angles); synchronous saves let the manifest follow at once.
            cleanup_tmp_directories=False, create=writable, read_only=self.read_only,
            enable_async_checkpointing=False)
        return ocp.CheckpointManager(self.directory, options=options,
                                     item_names=("state", "meta"))

    def steps(self) -> list[int]:
        if self._manager is None:             # after a save failed and could not reopen
            return sorted(int(p.name) for p in self.directory.iterdir() if p.name.isdigit())
        return sorted(self._manager.all_steps())

    def save(self, step: int, state, meta: dict, metrics: dict | None = None) -> None:
        """Save synchronously; ``metrics`` rank checkpoints for the best-by-metric policy.

        Raises:
          RunFolderError: the save failed on the file system (a full disk, no permission);
            its partial files are removed, the earlier checkpoints are kept.
        """
        start = time.perf_counter()
        best = self.config.best_metric
        ranked = {best: float(metrics[best])} if metrics and best in metrics else None
        try:
            self._manager.save(step, args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
                metrics=ranked, force=True)
            self._write_manifest(step)
        except Exception as err:
            reason = _storage_failure(err)
            if reason is None:
                raise
            self._discard(step)
            kept = self.steps()
            raise RunFolderError(
                f"cannot save the checkpoint at step {step} in {self.directory}: {reason}; "
                f"the checkpoints saved before are kept (newest: "
                f"{f'step {kept[-1]}' if kept else 'none'}); fix that and run the same "
                f"command to resume") from None
        self.save_seconds.append(time.perf_counter() - start)

    def _discard(self, step: int) -> None:
        """Remove what a failed save of ``step`` left (orbax's tmp folder, the manifest's tmp
        file) and reopen the manager; a step folder orbax finished is kept (without a
        manifest, orbax's read checks it)."""
        try:
            self._manager.close()
        except Exception:           # noqa: BLE001 - the manager is replaced below
            pass
        for tmp in self.directory.glob(f"{step}.orbax-checkpoint-tmp*"):
            shutil.rmtree(tmp, ignore_errors=True)
        self._manifest_path(step).with_suffix(".tmp").unlink(missing_ok=True)
        try:
            self._manager = self._open()
        except Exception:           # noqa: BLE001 - the folder is unusable; close() skips it
            self._manager = None

    def _manifest_path(self, step: int) -> Path:
        return self.directory.parent / "manifests" / f"{step}.json"

    def _fingerprint(self, step: int) -> dict:
        root = self.directory / str(step)
        return {p.relative_to(root).as_posix(): [p.stat().st_size, _sha256(p)]
                for p in sorted(root.rglob("*")) if p.is_file()}

    def _write_manifest(self, step: int) -> None:
        path = self._manifest_path(step)
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._fingerprint(step)))
        tmp.replace(path)
        live = {str(s) for s in self.steps()}
        for old in path.parent.glob("*.json"):      # checkpoints the keep policy removed
            if old.stem not in live:
                old.unlink()

    def _verify(self, step: int) -> None:
        """Raise :class:`CheckpointDamaged` if the files differ from the manifest written at
        save time; without a manifest (or with one that cannot be parsed) orbax's own read
        is the check."""
        path = self._manifest_path(step)
        if not path.is_file():
            return
        try:
            want = json.loads(path.read_text())
            want = {str(k): (int(v[0]), str(v[1])) for k, v in want.items()}
        except (ValueError, TypeError, AttributeError, IndexError, KeyError) as err:
            warnings.warn(f"the manifest {path} cannot be parsed ({_first_line(err)}); checking "
                          f"the checkpoint at step {step} without it", CheckpointWarning,
                          stacklevel=4)
            return
        got = self._fingerprint(step)
        for name, (size, digest) in want.items():
            if name not in got:
                raise CheckpointDamaged(f"file {name} is missing")
            if got[name][0] != size:
                raise CheckpointDamaged(f"file {name} has {got[name][0]} bytes, {size} were "
                                        f"written")
            if got[name][1] != digest:
                raise CheckpointDamaged(f"file {name} does not match its checksum")

    def _require_readable(self, step: int) -> None:
        """Raise :class:`RunFolderError` naming the first file of ``step`` this process may
        not read (not damage: nothing is moved)."""
        root = self.directory / str(step)
        for path in (root, *sorted(root.rglob("*")), self._manifest_path(step)):
            mode = os.R_OK | (os.X_OK if path.is_dir() else 0)
            if path.exists() and not os.access(path, mode):
                raise _unreadable(path)

    def _require_compatible(self, step: int, template) -> None:
        """Raise :class:`RunFolderError` if the stored state's tree differs from
        ``template`` (a leaf missing or extra, another shape or dtype)."""
        try:
            stored = ocp.StandardCheckpointHandler().metadata(self.directory / str(step) /
                                                              "state")
        except PermissionError as err:
            raise _unreadable(err.filename or self.directory / str(step)) from None
        except Exception as err:          # noqa: BLE001 - its metadata cannot be read
            raise CheckpointDamaged(f"its tree metadata cannot be read "
                                    f"({_first_line(err)})") from err
        want, got = _leaves(template), _leaves(stored)
        where = f"the checkpoint at step {step} in {self.directory}"
        fix = ("the code or config changed since it was saved; restore them, or pass "
               "--force-restart to start over (the old run is moved aside)")
        for name in want:
            if name not in got:
                raise RunFolderError(f"{where} has no leaf {name} (found {len(got)} leaves, "
                                     f"expected {len(want)}); {fix}")
            if got[name] != want[name]:
                (es, ed), (fs, fd) = want[name], got[name]
                raise RunFolderError(f"{where} does not fit: leaf {name} expected shape {es} "
                                     f"{ed}, found {fs} {fd}; {fix}")
        extra = sorted(set(got) - set(want))
        if extra:
            raise RunFolderError(f"{where} has a leaf {extra[0]} this run does not expect "
                                 f"({len(extra)} extra in all); {fix}")

    def wait(self) -> None:
        self._manager.wait_until_finished()

    def close(self) -> None:
        """Wait for orbax's background work and close the manager (idempotent)."""
        if self._manager is None:
            return
        self._manager.wait_until_finished()
        self._manager.close()
        self._manager = None

    def restore(self, template, step: int | None = None, *, set_aside: bool = True):
        """``(step, state, meta)`` from ``step`` or the newest usable checkpoint; ``None`` when
        there is none. ``template`` gives the pytree structure, shapes and dtypes.

        Args:
          set_aside: move a damaged checkpoint to ``corrupt/`` (a run resuming); when false it
            is only skipped with a warning (an evaluation touches nothing).

        Raises:
          RunFolderError: the named ``step`` does not exist or is damaged; a checkpoint is
            unreadable (permissions) or does not fit ``template`` (module docstring).
        """
        available = self.steps()
        if step is not None and step not in available:
            raise RunFolderError(f"no checkpoint for step {step} in {self.directory}; "
                                 f"available: {available or 'none'}")
        with _quiet_closed_loop():
            for s in ([step] if step is not None else available[::-1]):
                try:
                    state, meta = self._restore_one(s, template)
                except CheckpointDamaged as err:
                    if step is not None:
                        raise RunFolderError(f"the checkpoint at step {s} in {self.directory} "
                                             f"is damaged ({err}); available: "
                                             f"{available}") from None
                    self._skip(s, err, set_aside)
                    continue
                return s, state, meta
        return None

    def _restore_one(self, step: int, template) -> tuple:
        self._require_readable(step)
        self._verify(step)
        self._require_compatible(step, template)
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
        try:
            out = self._manager.restore(step, args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
        except PermissionError as err:
            raise _unreadable(err.filename or self.directory / str(step)) from None
        except Exception as err:          # noqa: BLE001 - orbax could not read the files
            raise CheckpointDamaged(_first_line(err)) from err
        _require_finite(out["state"], step)
        return out["state"], dict(out["meta"])

    def _skip(self, step: int, err: BaseException, set_aside: bool) -> None:
        if not set_aside or self.read_only:
            warnings.warn(f"the checkpoint at step {step} in {self.directory} is damaged "
                          f"({_first_line(err)}); trying the previous one", CheckpointWarning,
                          stacklevel=3)
            return
        self._set_aside(step, err)

    def _set_aside(self, step: int, err: BaseException) -> None:
        corrupt = self.directory.parent / "corrupt"
        corrupt.mkdir(exist_ok=True)
        target = corrupt / f"{step}-{time.strftime('%Y%m%d-%H%M%S')}"
        warnings.warn(f"checkpoint at step {step} in {self.directory} cannot be read: it is "
                      f"damaged ({_first_line(err)}); moved to {target}, trying the previous "
                      f"one", CheckpointWarning, stacklevel=4)
        self._manager.close()
        shutil.move(str(self.directory / str(step)), target)
        if self._manifest_path(step).is_file():
            self._manifest_path(step).replace(target.with_suffix(".manifest.json"))
        self._manager = self._open()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require_finite(state, step: int) -> None:
    for leaf in jax.tree.leaves(state):
        arr = np.asarray(leaf)
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            raise CheckpointDamaged("it holds non-finite values")


@contextlib.contextmanager
def _quiet_closed_loop():
    """Drop the "Event loop is closed" errors that tensorstore's reader threads report (as
    unraisable exceptions, each with a traceback on stderr) when orbax's event loop ends
    early on a damaged file; the restore's own error says what happened. Others pass."""
    previous = sys.unraisablehook

    def hook(unraisable):
        err = unraisable.exc_value
        if not (isinstance(err, RuntimeError) and str(err) == "Event loop is closed"):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        gc.collect()            # the failed reads' futures report as they are collected
        sys.unraisablehook = previous


def _leaves(tree) -> dict[str, tuple[tuple[int, ...], str]]:
    """``{"params.hidden.kernel": (shape, dtype)}`` of a pytree or of orbax's tree metadata
    (whose paths use dict keys where the state has attributes: both are named alike here)."""
    def name(path) -> str:
        parts = [getattr(k, "name", getattr(k, "key", getattr(k, "idx", k))) for k in path]
        return ".".join(str(p) for p in parts)
    def shape_dtype(leaf) -> tuple[tuple[int, ...], str]:
        if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
            return tuple(leaf.shape), str(np.dtype(leaf.dtype))
        arr = np.asarray(leaf)                  # a Python scalar in a template
        return arr.shape, str(arr.dtype)
    return {name(path): shape_dtype(leaf)
            for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]}


def _unreadable(path) -> RunFolderError:
    return RunFolderError(f"cannot read {path}: permission denied; fix its permissions (the "
                          f"checkpoint is not damaged and was left as it is)")


def _storage_failure(err: BaseException) -> str | None:
    """What a failed save says about the file system (``None``: not a storage failure)."""
    text = str(err)
    if (isinstance(err, OSError) and err.errno == errno.ENOSPC
            or "RESOURCE_EXHAUSTED" in text or "No space left" in text):
        return "no space left on the device"
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename else ""
        return f"{err.strerror or _first_line(err)}{where}"
    if "PERMISSION_DENIED" in text or "Permission denied" in text:
        return _first_line(err)
    return None
