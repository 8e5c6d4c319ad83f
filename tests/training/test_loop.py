"""The training loop in-process: end to end from configs/tiny.yaml, evaluation, keep/best
checkpoints, refusing incompatible resumes, stopping on a non-finite loss."""

import json
from pathlib import Path

import numpy as np
import pytest

from qtnet.config import Config, ConfigError, load
from qtnet.data import register_dataset
from qtnet.registry import Registry
from qtnet.training import (Checkpoints, NonFiniteLossError, Trainer, batch_indices,
                            build_setup, evaluate, read_metrics, train)
from qtnet.training import hooks
from qtnet.training.cli import eval_main, train_main

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "tiny.yaml")
MLP = ["model.type=mlp", "model.hidden=8", "training.batch_size=8", "training.log_every=1"]


def _quiet(*_args, **_kw):
    pass


def test_tiny_trains_stops_resumes_and_evaluates(tmp_path, capsys):
    run = str(tmp_path / "run")
    trainer = Trainer()                 # one compilation for every call below
    assert train_main(["--config", TINY, "--workdir", run, "--set", "training.steps=2"],
                      trainer=trainer) == 0
    assert Checkpoints(Path(run) / "checkpoints", load(Config, TINY).checkpoint).steps() == [2]
    assert train_main(["--config", TINY, "--workdir", run], trainer=trainer) == 0   # 2 -> 4
    out = capsys.readouterr().out
    assert "resumed from the checkpoint at step 2" in out
    records = read_metrics(Path(run) / "metrics.jsonl")
    assert [r["step"] for r in records if r["split"] == "train"] == [1, 2, 3, 4]
    # The meter by hand (docs/communication.md): 64 features -> 6 qubits, 10 classes -> a
    # 4-qubit class register (K = 16); A_1 and B_1 hold depth x qubits = 12 RY angles each
    # (P = 24); eps = delta = 0.05. Loss: ceil(ln(2K / delta) / (2 eps^2)) = ceil(1292.29) =
    # 1293 copies; parameter shift: 2P ceil(ln(2K * 2P / delta) / (2 eps^2)) = 48 *
    # ceil(2066.53) = 99216; each copy crosses 2 hand-offs of 6 qubits:
    # (1293 + 99216) * 2 * 6 = 1206108 qubits per sample, 16 samples a step.
    for r in records:
        if r["split"] == "train":
            assert r["comm_quantum_qubits"] == r["step"] * 16 * 1206108
    summary = json.loads((Path(run) / "summary.json").read_text())
    assert summary["resumed_from"] == 2 and summary["steps_run"] == 2
    assert (Path(run) / "curves.png").stat().st_size > 0
    assert any((Path(run) / "tensorboard").iterdir())

    assert eval_main(["--workdir", run], trainer=trainer) == 0
    latest = json.loads(capsys.readouterr().out)
    assert latest["step"] == 4 and 0.0 <= latest["accuracy"] <= 1.0
    final_eval = [r for r in records if r["split"] == "eval"][-1]
    assert latest["accuracy"] == pytest.approx(final_eval["accuracy"])
    assert latest["loss"] == pytest.approx(final_eval["loss"], rel=1e-6)
    # a finished run run again trains nothing, reports its last checkpoint's figures and
    # keeps the summary its training wrote
    written = (Path(run) / "summary.json").read_text()
    assert train_main(["--config", TINY, "--workdir", run], trainer=trainer) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "the run finished at step 4; nothing to train" in out[-2], out
    assert out[-1].startswith(f"done: step 4, eval accuracy {final_eval['accuracy']:.4f}, "
                              f"eval loss {final_eval['loss']:.4f}"), out[-1]
    assert (Path(run) / "summary.json").read_text() == written
    summary = json.loads(written)
    assert summary["steps_run"] == 2 and summary["final_eval"] == {
        k: v for k, v in final_eval.items() if k not in ("step", "split")}
    assert eval_main(["--workdir", run, "--step", "2"], trainer=trainer) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 2
    assert eval_main(["--workdir", run, "--step", "3"], trainer=trainer) == 2
    assert "no checkpoint for step 3" in capsys.readouterr().err
    assert eval_main(["--workdir", str(tmp_path / "nothing")]) == 2


def test_incompatible_resume_is_refused_unless_forced(tmp_path, capsys):
    run = str(tmp_path / "run")
    args = ["--config", TINY, "--workdir", run, "--set"]
    assert train_main([*args, "training.steps=1", "--set", MLP[0]]) == 0
    capsys.readouterr()
    assert train_main([*args, "training.steps=2", "--set", "model.type=figure2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "model.type='mlp'" in err and "--force-restart" in err
    assert train_main([*args, "training.steps=1", "--force-restart"]) == 0
    archived = list(Path(run).glob("superseded-*"))
    assert len(archived) == 1 and (archived[0] / "checkpoints" / "1").is_dir()


def test_keeps_the_last_k_and_the_best(tmp_path):
    config = load(Config, TINY, [*MLP, "training.steps=12", "checkpoint.every=2",
                                 "checkpoint.keep=2", "checkpoint.best_metric=eval/loss",
                                 "checkpoint.best_mode=min", "optimizer.learning_rate=0.5"])
    train(config, tmp_path, echo=_quiet, interactive=False)
    evals = {r["step"]: r["loss"] for r in read_metrics(tmp_path / "metrics.jsonl")
             if r["split"] == "eval" and r["step"] % 2 == 0}
    best = min(evals, key=evals.get)
    kept = Checkpoints(tmp_path / "checkpoints", config.checkpoint).steps()
    assert set(kept) == {10, 12, best}


@register_dataset("digits_with_a_nan")
def _digits_with_a_nan():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x[:200].astype(float)
    x[17] = np.nan
    return x, y[:200]


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    config = load(Config, TINY, [*MLP, "data.name=digits_with_a_nan", "data.standardize=false",
                                 "training.steps=40", "checkpoint.every=1",
                                 "checkpoint.best_metric=null", "checkpoint.keep=2"])
    from qtnet.data import load_dataset

    data = load_dataset(config.data)
    bad_rows = np.flatnonzero(~np.isfinite(data.x_train).all(1))
    assert len(bad_rows) == 1
    first_bad = next(s for s in range(40) if bad_rows[0] in batch_indices(
        config.training.seed, s, config.training.batch_size, len(data.y_train))) + 1
    assert first_bad > 1
    with pytest.raises(NonFiniteLossError, match=f"at step {first_bad}; stopping. Last good "
                                                 f"checkpoint: step {first_bad - 1}"):
        train(config, tmp_path, echo=_quiet, interactive=False)
    assert max(Checkpoints(tmp_path / "checkpoints", config.checkpoint).steps()) == first_bad - 1
    assert evaluate(tmp_path)["step"] == first_bad - 1


def test_unknown_model_and_dataset_list_the_valid_names(tmp_path):
    with pytest.raises(ConfigError,
                       match="unknown model 'vit'; valid models: chain, deep_sign, figure2, mlp"):
        train(load(Config, TINY, ["model.type=vit"]), tmp_path, echo=_quiet)
    with pytest.raises(ConfigError, match="unknown dataset 'mnist'; valid datasets: .*digits"):
        train(load(Config, TINY, ["data.name=mnist"]), tmp_path, echo=_quiet)


@pytest.mark.parametrize("yaml_text, message", [
    ("model:\n  layerz: 2\n", "unknown key model.layerz in model; valid keys: type, layers"),
    ("model:\n  layers: two\n", "model.layers: expected int, got 'two'"),
    ("training:\n  batch_size: -4\n", "training.batch_size: expected a value >= 1, got -4"),
    ("model: [1\n", "malformed YAML in"),
])
def test_bad_config_files_exit_2_with_one_line(tmp_path, capsys, yaml_text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    assert train_main(["--config", str(path), "--workdir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert not (tmp_path / "run").exists()


def test_non_finite_loss_names_the_last_saved_step_or_none(tmp_path):
    """Before any save the message says none; after a resume it names the restored step."""
    sets = [*MLP, "data.name=digits_with_a_nan", "data.standardize=false",
            "checkpoint.every=1000", "checkpoint.best_metric=null"]
    config = load(Config, TINY, [*sets, "training.steps=40"])
    from qtnet.data import load_dataset

    data = load_dataset(config.data)
    bad = np.flatnonzero(~np.isfinite(data.x_train).all(1))[0]
    first_bad = next(s for s in range(40) if bad in batch_indices(
        config.training.seed, s, config.training.batch_size, len(data.y_train))) + 1
    with pytest.raises(NonFiniteLossError, match=r"Last good checkpoint: none in "):
        train(config, tmp_path / "fresh", echo=_quiet, interactive=False)
    resumed = tmp_path / "resumed"
    train(load(Config, TINY, [*sets, f"training.steps={first_bad - 1}"]), resumed,
          echo=_quiet, interactive=False)
    with pytest.raises(NonFiniteLossError,
                       match=rf"Last good checkpoint: step {first_bad - 1} in "):
        train(config, resumed, echo=_quiet, interactive=False)


def test_a_kept_trainer_compiles_each_step_once(tmp_path):
    """A resumed run and an evaluation reuse the trainer's compiled steps."""
    trainer = Trainer()
    config = load(Config, TINY, [*MLP, "training.steps=2"])
    trainer.train(config, tmp_path, echo=_quiet, interactive=False)
    trainer.train(load(Config, TINY, [*MLP, "training.steps=4"]), tmp_path, echo=_quiet,
                  interactive=False)                                   # resumes at 2
    assert trainer.evaluate(tmp_path)["step"] == 4
    train_step, eval_step = trainer.compiled(build_setup(config))
    assert len(trainer.compiled) == 1
    assert train_step._cache_size() == 1 and eval_step._cache_size() == 1


class _Recorder:
    """An after-training task that reports what the finished run offers it."""

    def __init__(self, refuse: bool = False):
        self.refuse, self.checked = refuse, False

    def check(self, setup):
        self.checked = True
        if self.refuse:
            raise ConfigError("recorder: refused")

    def after_training(self, run):
        return {"saved": run.saved_steps(), "best": run.best_step("accuracy"),
                "restored_step": int(run.restore(run.best_step()).step)}


def test_after_training_tasks_run_and_report_in_the_summary(tmp_path):
    config = load(Config, TINY, [*MLP, "training.steps=4", "checkpoint.every=2",
                                 "checkpoint.keep=5", "training.eval_every=2"])
    task = _Recorder()
    train(config, tmp_path, echo=_quiet, interactive=False, tasks={"recorder": task})
    evals = {r["step"]: r["accuracy"] for r in read_metrics(tmp_path / "metrics.jsonl")
             if r["split"] == "eval"}
    best = max(sorted(evals), key=lambda s: evals[s])      # earliest of the best
    got = json.loads((tmp_path / "summary.json").read_text())["recorder"]
    assert got == {"saved": [2, 4], "best": best, "restored_step": best}
    refused = _Recorder(refuse=True)
    with pytest.raises(ConfigError, match="recorder: refused"):
        train(config, tmp_path / "refused", echo=_quiet, tasks={"recorder": refused})
    assert refused.checked and not (tmp_path / "refused" / "config.yaml").exists()


def test_a_requested_task_nobody_registered_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "_TASKS", Registry("after-training task"))
    config = load(Config, TINY, [*MLP, "circuit.evaluate=true"])
    with pytest.raises(ConfigError, match="circuit.evaluate: no after-training task 'circuit' "
                                          "is registered"):
        train(config, tmp_path, echo=_quiet)
