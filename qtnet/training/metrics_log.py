"""Where metrics go: JSON lines, TensorBoard event files, the terminal, and a PNG at the end.

``metrics.jsonl`` holds one record per line, ``{"step", "split", ...metrics}``; on a resume the
records after the restored step (written before the crash) are dropped, so the file always reads
as one unbroken run. ``tensorboard/`` is rebuilt from those kept records when a run starts (its
old event files are deleted), then grows with the run: each step appears once, whatever was
logged past the restored step before a crash.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from qtnet.training.run_folder import RunFolderError


def read_metrics(path: str | Path) -> list[dict]:
    """The records of a ``metrics.jsonl``.

    A last line that is not a JSON record (torn by a kill mid-write) is dropped; blank lines
    are skipped.

    Raises:
      RunFolderError: a line before the last is not a JSON record (naming its number).
    """
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text().splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError(f"a JSON {type(record).__name__}, not an object")
        except ValueError as err:
            if number == len(lines):
                break                               # torn by a kill mid-write
            raise RunFolderError(f"{path} line {number} is not a metrics record ({err}); "
                                 f"fix or delete that line") from None
        records.append(record)
    return records


def _clean(metrics: dict) -> dict:
    return {k: (float(v) if not isinstance(v, int | str) else v) for k, v in metrics.items()}


class MetricsLog:
    """Writes training and eval metrics; ``resume_step`` trims records after that step."""

    def __init__(self, workdir: Path, total_steps: int, *, resume_step: int = 0,
                 log_every: int = 10, interactive: bool | None = None, echo=print):
        self.path = workdir / "metrics.jsonl"
        kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= resume_step]
        tmp = self.path.with_suffix(".jsonl.tmp")          # a kill here loses nothing
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        tmp.replace(self.path)
        self._file = self.path.open("a")
        self._tb = _tensorboard(workdir / "tensorboard", kept)
        self.total, self.log_every, self.echo = total_steps, log_every, echo
        interactive = sys.stderr.isatty() if interactive is None else interactive
        self._bar = None
        self._postfix: dict[str, str] = {}          # the bar's loss / accuracy read-outs
        if interactive:
            from tqdm import tqdm

            self._bar = tqdm(total=total_steps, initial=resume_step, unit="step",
                             dynamic_ncols=True)
        self._last_time = time.perf_counter()

    def write(self, step: int, split: str, metrics: dict) -> None:
        record = {"step": step, "split": split, **_clean(metrics)}
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        if self._tb is not None:
            _add_scalars(self._tb, record)
        if split == "train":
            self._progress(step, record)
        elif self._bar is not None:                 # a terminal: beside the bar, not below
            if "accuracy" in record:
                self._postfix[f"{split} acc"] = f"{record['accuracy']:.3f}"
                self._bar.set_postfix(self._postfix)
        elif step % self.log_every == 0 or step == self.total:
            text = " ".join(f"{k} {v:.4g}" for k, v in record.items()
                            if k not in ("step", "split"))
            self.echo(f"step {step} {split}: {text}")

    def _progress(self, step: int, record: dict) -> None:
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            self._postfix.update(loss=f"{record['loss']:.4f}", acc=f"{record['accuracy']:.3f}")
            self._bar.set_postfix(self._postfix)
        elif step % self.log_every == 0 or step == self.total:
            now = time.perf_counter()
            rate = self.log_every / max(now - self._last_time, 1e-9)
            self._last_time = now
            comm = (f" comm {record['comm_quantum_qubits']:.3g} qubits"
                    if "comm_quantum_qubits" in record else "")
            fidelity = ("" if record.get("fidelity_min", record["fidelity"]) == 1.0
                        else f" fidelity {record['fidelity']:.4f}")   # 1: nothing truncated
            self.echo(f"step {step}/{self.total}: loss {record['loss']:.4f} "
                      f"accuracy {record['accuracy']:.3f}{fidelity}"
                      f"{comm} ({rate:.2f} steps/s)")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        if self._tb is not None:
            self._tb.close()
        self._file.close()


def _tensorboard(logdir: Path, records: list[dict]):
    """A writer on ``logdir`` holding exactly ``records`` (older event files are deleted)."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:             # optional: the JSON lines hold everything
        return None
    for old in logdir.glob("events.out.tfevents.*"):
        old.unlink()
    writer = SummaryWriter(str(logdir))
    for record in records:
        _add_scalars(writer, record)
    writer.flush()
    return writer


def _add_scalars(writer, record: dict) -> None:
    for key, value in record.items():
        if key not in ("step", "split") and isinstance(value, int | float) \
                and math.isfinite(value):
            writer.add_scalar(f"{record['split']}/{key}", value, record["step"])


def plot_curves(workdir: Path) -> Path | None:
    """``curves.png``: training loss and accuracy, eval accuracy, and the fidelity against
    step where anything was truncated (no panel when it is 1 throughout)."""
    records = read_metrics(workdir / "metrics.jsonl")
    train = [r for r in records if r["split"] == "train"]
    if not train:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    evals = [r for r in records if r["split"] == "eval"]
    truncated = any(r.get("fidelity", 1.0) != 1.0 for r in train)    # else a flat line at 1
    fig, axes = plt.subplots(1, 3 if truncated else 2, figsize=(13 if truncated else 9, 3.6))
    steps = [r["step"] for r in train]
    axes[0].plot(steps, [r["loss"] for r in train], label="train")
    if evals:
        axes[0].plot([r["step"] for r in evals], [r["loss"] for r in evals], "o-", label="eval")
    axes[0].set(xlabel="step", ylabel="loss", title="loss")
    axes[1].plot(steps, [r["accuracy"] for r in train], label="train (batch)")
    if evals:
        axes[1].plot([r["step"] for r in evals], [r["accuracy"] for r in evals], "o-",
                     label="eval")
    axes[1].set(xlabel="step", ylabel="accuracy", title="accuracy")
    if truncated:
        axes[2].plot(steps, [r["fidelity"] for r in train])
        axes[2].set(xlabel="step", ylabel="mean fidelity estimate", title="truncation fidelity")
    for ax in axes[:2]:
        ax.legend()
    fig.tight_layout()
    out = workdir / "curves.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
