"""Hybrid transfer learning: an MLP trained by the ordinary trainer, frozen, feeds its hidden
features into a Figure 2 circuit head trained alone from configs/transfer_digits.yaml."""

import shutil
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import yaml

from qtnet.config import Config, ConfigError, load
from qtnet.training import build_setup, train
from qtnet.training.checkpoint import Checkpoints
from qtnet.training.cli import train_main
from qtnet.training.setup import trained_model

ROOT = Path(__file__).resolve().parents[2]
QUIET = dict(echo=lambda *_: None)


def transfer_config(extractor, *more):
    return load(Config, ROOT / "configs" / "transfer_digits.yaml",
                [f"model.extractor={extractor}", "model.layers=2", "model.depth=2",
                 "training.steps=30", "training.batch_size=32", "training.eval_every=30",
                 "checkpoint.every=30", "optimizer.learning_rate=0.1", *more])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("transfer")
    mlp = load(Config, ROOT / "configs" / "mlp_digits.yaml",
               ["training.steps=40", "training.batch_size=32", "training.eval_every=40",
                "checkpoint.every=40"])
    train(mlp, tmp / "mlp", **QUIET)
    before = jax.tree.map(np.asarray, trained_model(tmp / "mlp"))
    config = transfer_config(tmp / "mlp")
    setup = build_setup(config)
    result = train(config, tmp / "head", **QUIET)
    _, state, _ = Checkpoints(tmp / "head" / "checkpoints", config.checkpoint,
                              read_only=True).restore(setup.state)
    return dict(tmp=tmp, before=before, setup=setup, trained=state.params, result=result)


def batch_loss(setup, params):
    x, y = setup.data.x_train[:256], setup.data.y_train[:256]
    logits = setup.model(params)(jnp.asarray(x))["logits"]
    return float(optax.softmax_cross_entropy_with_integer_labels(logits, jnp.asarray(y)).mean())


def test_only_the_head_trains_and_its_loss_falls(runs):
    setup, trained = runs["setup"], runs["trained"]
    assert set(trained) == {"head"}                       # the extractor is not a parameter
    first, last = batch_loss(setup, setup.state.params), batch_loss(setup, trained)
    assert last < first - 0.2, (first, last)


def test_the_extractor_is_unchanged_by_head_training(runs):
    from flax import nnx

    frozen = runs["setup"].model(runs["trained"]).extractor_weights()
    saved_before = nnx.state(runs["before"])
    saved_after = nnx.state(trained_model(runs["tmp"] / "mlp"))
    for got, want, again in zip(jax.tree.leaves(frozen), jax.tree.leaves(saved_before),
                                jax.tree.leaves(saved_after)):
        np.testing.assert_array_equal(np.asarray(got), want)
        np.testing.assert_array_equal(np.asarray(again), want)


def test_a_missing_extractor_is_a_config_error_naming_it(runs, capsys):
    missing = runs["tmp"] / "no_such_run"
    with pytest.raises(ConfigError, match=str(missing)):
        build_setup(transfer_config(missing))
    code = train_main(["--config", str(ROOT / "configs" / "transfer_digits.yaml"),
                       "--workdir", str(runs["tmp"] / "bad"), "--set",
                       f"model.extractor={missing}"])
    assert code == 2 and str(missing) in capsys.readouterr().err


def test_a_mismatched_extractor_checkpoint_is_a_config_error_naming_it(runs):
    other = runs["tmp"] / "mlp_edited"
    shutil.copytree(runs["tmp"] / "mlp", other)
    stored = yaml.safe_load((other / "config.yaml").read_text())
    stored["model"]["hidden"] = 8                 # the checkpoint holds 16 hidden units
    (other / "config.yaml").write_text(yaml.safe_dump(stored))
    with pytest.raises(ConfigError, match=str(other / "checkpoints")):
        build_setup(transfer_config(other))


def test_an_extractor_that_is_not_an_mlp_is_refused(runs):
    with pytest.raises(ConfigError, match="not a trained MLP"):
        build_setup(transfer_config(runs["tmp"] / "head"))
