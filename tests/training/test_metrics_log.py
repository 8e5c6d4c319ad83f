"""metrics.jsonl and TensorBoard on a resume: only a torn last line is dropped, a damaged line
before it is an error naming it, and the event files hold each step once."""

import shutil
import struct
from collections import Counter
from pathlib import Path

import pytest
from tensorboardX.proto import event_pb2

from qtnet.training import Trainer, read_metrics
from qtnet.training.metrics_log import MetricsLog
from qtnet.training.cli import train_main
from qtnet.training.run_folder import RunFolderError

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "tiny.yaml")
MLP = ["model.type=mlp", "model.hidden=8", "training.batch_size=8", "training.log_every=1",
       "metering.enabled=false", "training.steps=4"]


def _lines(path, *lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_a_torn_last_line_is_dropped(tmp_path):
    path = _lines(tmp_path / "m.jsonl", '{"step": 1, "split": "train"}', "",
                  '{"step": 2, "split": "train"}')
    path.write_text(path.read_text() + '{"step": 3, "spl')        # killed mid-write
    assert [r["step"] for r in read_metrics(path)] == [1, 2]


@pytest.mark.parametrize("bad, why", [('{"step": 2, "spl', "Unterminated string"),
                                      ("[1, 2]", "a JSON list, not an object")])
def test_a_damaged_line_before_the_last_is_an_error_naming_it(tmp_path, bad, why):
    path = _lines(tmp_path / "m.jsonl", '{"step": 1, "split": "train"}', bad,
                  '{"step": 3, "split": "train"}')
    with pytest.raises(RunFolderError, match=rf"{path} line 2 is not a metrics record \(.*"
                                             rf"{why}.*\); fix or delete that line"):
        read_metrics(path)


def _tensorboard_steps(logdir: Path) -> Counter:
    """``(tag, step)`` counts over every event file in ``logdir`` (TFRecord framing: length,
    its CRC, the Event proto, its CRC)."""
    seen = Counter()
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        raw, at = path.read_bytes(), 0
        while at < len(raw):
            (length,) = struct.unpack("<Q", raw[at:at + 8])
            event = event_pb2.Event.FromString(raw[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                seen[(value.tag, event.step)] += 1
    return seen


def _train(workdir, trainer, *sets):
    args = ["--config", TINY, "--workdir", str(workdir)]
    for s in (*MLP, *sets):
        args += ["--set", s]
    return train_main(args, trainer=trainer)


def test_a_resume_logs_each_step_once_in_tensorboard_and_the_json_lines(tmp_path, capsys):
    trainer = Trainer()
    assert _train(tmp_path, trainer) == 0
    straight = read_metrics(tmp_path / "metrics.jsonl")
    # As if killed after logging steps 3 and 4 but before saving the checkpoint at step 4.
    shutil.rmtree(tmp_path / "checkpoints" / "4")
    (tmp_path / "manifests" / "4.json").unlink()
    assert _train(tmp_path, trainer) == 0
    assert "resumed from the checkpoint at step 2" in capsys.readouterr().out
    records = read_metrics(tmp_path / "metrics.jsonl")
    assert records == straight
    seen = _tensorboard_steps(tmp_path / "tensorboard")
    assert max(seen.values()) == 1, [k for k, n in seen.items() if n > 1]
    want = {(f"{r['split']}/{k}", r["step"]) for r in records for k in r
            if k not in ("step", "split")}
    assert set(seen) == want


def test_a_damaged_metrics_line_stops_a_resume_in_one_line(tmp_path, capsys):
    trainer = Trainer()
    assert _train(tmp_path, trainer, "training.steps=2") == 0
    path = tmp_path / "metrics.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:10]
    path.write_text("\n".join(lines) + "\n")
    before = path.read_text()
    capsys.readouterr()
    assert _train(tmp_path, trainer) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{path} line 2 is not a metrics record" in err
    assert path.read_text() == before


@pytest.mark.parametrize("fidelity, shown", [(1.0, False), (0.97, True)])
def test_progress_line_shows_fidelity_only_where_something_was_truncated(tmp_path, fidelity,
                                                                         shown):
    lines = []
    log = MetricsLog(tmp_path, 2, log_every=1, interactive=False, echo=lines.append)
    log.write(1, "train", {"loss": 0.5, "accuracy": 0.75, "fidelity": fidelity,
                           "fidelity_min": fidelity})
    log.close()
    assert lines[0].startswith("step 1/2: loss 0.5000 accuracy 0.750")
    assert ("fidelity 0.9700" in lines[0]) == shown and ("fidelity" in lines[0]) == shown


def test_plain_output_is_one_line_per_split_every_log_every_steps(tmp_path):
    """Not on a terminal: the train, eval and test lines of every log_every-th step (and the
    last), not one per evaluation (the Cora job evaluates every 10 of 1000 steps)."""
    lines = []
    log = MetricsLog(tmp_path, 10, log_every=5, interactive=False, echo=lines.append)
    for step in range(1, 11):
        log.write(step, "train", {"loss": 0.5, "accuracy": 0.75, "fidelity": 1.0})
        log.write(step, "eval", {"loss": 0.6, "accuracy": 0.7, "fidelity": 1.0})
        log.write(step, "test", {"loss": 0.6, "accuracy": 0.7, "fidelity": 1.0})
    log.close()
    assert [line.split(":")[0] for line in lines] == [
        "step 5/10", "step 5 eval", "step 5 test", "step 10/10", "step 10 eval", "step 10 test"]
    assert len(read_metrics(tmp_path / "metrics.jsonl")) == 30        # every record is kept


def test_terminal_output_is_the_bar_with_eval_accuracy_beside_it(tmp_path, capsys):
    lines = []
    log = MetricsLog(tmp_path, 4, log_every=1, interactive=True, echo=lines.append)
    for step in range(1, 5):
        log.write(step, "train", {"loss": 0.5, "accuracy": 0.75, "fidelity": 1.0})
        log.write(step, "eval", {"loss": 0.6, "accuracy": 0.625, "fidelity": 1.0})
    log.close()
    assert lines == []
    bar = capsys.readouterr().err
    assert "4/4" in bar and "eval acc=0.625" in bar and "step 4 eval" not in bar
