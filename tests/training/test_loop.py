"""The training loop in-process: end to end from configs/tiny.yaml, evaluation, keep/best
checkpoints, refusing incompatible resumes, stopping on a non-finite loss."""

import json
from pathlib import Path

import numpy as np
import pytest
from flax import nnx

from qtnet.config import Config, ConfigError, load
from qtnet.training import (Checkpoints, NonFiniteLossError, batch_indices, evaluate,
                            read_metrics, register_dataset, train)
from qtnet.training.cli import eval_main, train_main

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "tiny.yaml")
MLP = ["model.type=mlp", "model.hidden=8", "training.batch_size=8", "training.log_every=1"]


def _quiet(*_args, **_kw):
    pass


def test_tiny_trains_stops_resumes_and_evaluates(tmp_path, capsys):
    run = str(tmp_path / "run")
    assert train_main(["--config", TINY, "--workdir", run, "--set", "training.steps=2"]) == 0
    assert Checkpoints(Path(run) / "checkpoints", load(Config, TINY).checkpoint).steps() == [2]
    assert train_main(["--config", TINY, "--workdir", run]) == 0      # resumes at 2, runs to 4
    out = capsys.readouterr().out
    assert "resumed from the checkpoint at step 2" in out
    records = read_metrics(Path(run) / "metrics.jsonl")
    assert [r["step"] for r in records if r["split"] == "train"] == [1, 2, 3, 4]
    from qtnet.comm import Estimator, meter
    from qtnet.models import Figure2Classifier

    config = load(Config, TINY)
    model = Figure2Classifier(64, 10, layers=config.model.layers, depth=config.model.depth,
                              rngs=nnx.Rngs(0))
    per_sample = meter(model.protocol(), Estimator(0.05, 0.05, "parameter_shift")).totals()
    for r in records:
        if r["split"] == "train":
            want = r["step"] * config.training.batch_size * per_sample["quantum_qubits"]
            assert r["comm_quantum_qubits"] == want
    summary = json.loads((Path(run) / "summary.json").read_text())
    assert summary["resumed_from"] == 2 and summary["steps_run"] == 2
    assert (Path(run) / "curves.png").stat().st_size > 0
    assert any((Path(run) / "tensorboard").iterdir())

    assert eval_main(["--workdir", run]) == 0
    latest = json.loads(capsys.readouterr().out)
    assert latest["step"] == 4 and 0.0 <= latest["accuracy"] <= 1.0
    final_eval = [r for r in records if r["split"] == "eval"][-1]
    assert latest["accuracy"] == pytest.approx(final_eval["accuracy"])
    assert latest["loss"] == pytest.approx(final_eval["loss"], rel=1e-6)
    assert eval_main(["--workdir", run, "--step", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 2
    assert eval_main(["--workdir", run, "--step", "3"]) == 2
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
    from qtnet.training import load_dataset

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
    with pytest.raises(ConfigError, match="unknown model 'vit'; valid models: figure2, mlp"):
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
