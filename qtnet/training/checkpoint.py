"""orbax checkpoints of the training state: keep the last k and the best, skip unreadable ones.

Layout of a run folder's ``checkpoints/``: one orbax step folder per save, each with two items,
``state`` (the TrainState pytree: step, params, optimiser state, RNG) and ``meta`` (JSON: the
resolved config, the data position, the metrics at that step). A checkpoint that cannot be read
(a kill during the write on a file system without atomic rename, a truncated or corrupt file) is
moved to ``corrupt/`` beside it, with a warning, and the previous one is used. Each finished
save also writes ``manifests/<step>.json`` (size and SHA-256 of every file), so a damaged
checkpoint is recognised before orbax tries to read it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import warnings
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers as policies

from qtnet.config import CheckpointConfig


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped because it could not be read."""


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200]}" if text else type(err).__name__


class Checkpoints:
    """Save and restore :class:`TrainState` pytrees plus JSON metadata in ``directory``."""

    def __init__(self, directory: str | Path, config: CheckpointConfig):
        self.directory = Path(directory).absolute()
        self.config = config
        self.save_seconds: list[float] = []
        self._manager = self._open()

    def _open(self) -> ocp.CheckpointManager:
        keep = [policies.LatestN(n=self.config.keep)]
        if self.config.best_metric:
            metric, sign = self.config.best_metric, self.config.best_mode == "min"
            keep.append(policies.BestN(get_metric_fn=lambda m: m[metric], reverse=sign, n=1,
                                       keep_checkpoints_without_metrics=False))
        options = ocp.CheckpointManagerOptions(
            preservation_policy=policies.AnyPreservationPolicy(keep),
            # Saves are small (circuit angles); synchronous saves let the manifest follow at once.
            cleanup_tmp_directories=True, create=True, enable_async_checkpointing=False)
        return ocp.CheckpointManager(self.directory, options=options,
                                     item_names=("state", "meta"))

    def steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def save(self, step: int, state, meta: dict, metrics: dict | None = None) -> None:
        """Save (asynchronously); ``metrics`` rank checkpoints for the best-by-metric policy."""
        start = time.perf_counter()
        best = self.config.best_metric
        ranked = {best: float(metrics[best])} if metrics and best in metrics else None
        self._manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                         meta=ocp.args.JsonSave(meta)),
                           metrics=ranked, force=True)
        self._write_manifest(step)
        self.save_seconds.append(time.perf_counter() - start)

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
        """Raise if the files differ from the manifest written at save time (if there is one)."""
        path = self._manifest_path(step)
        if not path.is_file():
            return
        want, got = json.loads(path.read_text()), self._fingerprint(step)
        for name, (size, digest) in want.items():
            if name not in got:
                raise OSError(f"file {name} is missing")
            if got[name][0] != size:
                raise OSError(f"file {name} has {got[name][0]} bytes, {size} were written")
            if got[name][1] != digest:
                raise OSError(f"file {name} does not match its checksum")

    def wait(self) -> None:
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()

    def restore(self, template, step: int | None = None):
        """``(step, state, meta)`` from ``step`` or the newest readable checkpoint; ``None``
        when there is none. ``template`` gives the pytree structure, shapes and dtypes."""
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
        candidates = self.steps()[::-1] if step is None else [step]
        if step is not None and step not in self.steps():
            raise FileNotFoundError(f"no checkpoint for step {step} in {self.directory}; "
                                    f"available: {self.steps() or 'none'}")
        for s in candidates:
            try:
                self._verify(s)
                out = self._manager.restore(s, args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
                _require_finite(out["state"], s)
                return s, out["state"], dict(out["meta"])
            except Exception as err:            # noqa: BLE001 - any unreadable checkpoint
                if step is not None:
                    raise
                self._set_aside(s, err)
        return None

    def _set_aside(self, step: int, err: BaseException) -> None:
        corrupt = self.directory.parent / "corrupt"
        corrupt.mkdir(exist_ok=True)
        target = corrupt / f"{step}-{time.strftime('%Y%m%d-%H%M%S')}"
        warnings.warn(f"checkpoint at step {step} in {self.directory} cannot be read "
                      f"({_first_line(err)}); moved to {target}, trying the previous one",
                      CheckpointWarning, stacklevel=3)
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
            raise ValueError(f"checkpoint at step {step} holds non-finite values")
