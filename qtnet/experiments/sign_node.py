"""The paper's node-classification protocol for SIGN (Table 1): one Adam step per epoch on all
training nodes, evaluation every few epochs, test figures at the epoch of best validation.

Node accuracy is selected by validation accuracy; the decision problem (on the test set)
by validation decision accuracy, each at its own best epoch, as the paper does. The training
is the trainer's: its optimiser builder, state, step factory and step loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from qtnet.data.types import NodeDataset
from qtnet.experiments.decision import READOUTS, decision_accuracy
from qtnet.models.sign import SIGN
from qtnet.training.fit import Every, fit
from qtnet.training.optim import make_optimizer
from qtnet.training.steps import (Objective, accumulated_cross_entropy, cross_entropy,
                                  init_state, make_logits_fn, make_train_step)


@dataclasses.dataclass(frozen=True)
class SignNodeSettings:
    activation: str = "poly"        # poly | prelu
    hops: int = 5
    hidden: int = 512
    dropout: float = 0.4
    input_dropout: float = 0.3
    learning_rate: float = 1e-3
    weight_decay: float = 0.0       # > 0: AdamW
    epochs: int = 1000
    eval_every: int = 10
    batch_size: int = 1000          # gradients accumulated over batches of training nodes
    init: str = "lecun"             # lecun | torch (the authors')
    prelu: str = "per_unit"         # per_unit | per_hop (the authors')


def epoch_key(rng: jax.Array, step: jax.Array) -> jax.Array:
    """The dropout key of ``step``: epochs count from 1, so ``fold_in(rng, step + 1)``."""
    return jax.random.fold_in(rng, step + 1)


def train_sign_node(hop_features: np.ndarray, data: NodeDataset, settings: SignNodeSettings,
                    seed: int, on_eval: Callable[[int, np.ndarray, np.ndarray], None], *,
                    objective: Objective | None = None):
    """Train SIGN on the training nodes, one optimiser step per epoch; every
    ``eval_every`` epochs call ``on_eval(epoch, val_logits, test_logits)``.

    Args:
      hop_features: ``[nodes, hops + 1, features]`` (:func:`qtnet.data.features.sign_hops`).
      data: the graph and its splits.
      seed: parameter initialisation and dropout keys (``fold_in(PRNGKey(seed), epoch)``).
      objective: default: the paper's, cross-entropy summed over micro-batches of
        ``batch_size`` nodes and divided by the training-node count.

    Returns:
      The final :class:`~qtnet.training.steps.TrainState`.
    """
    s = settings
    model = SIGN(hop_features.shape[2], data.n_classes, hops=s.hops, hidden=s.hidden,
                 activation=s.activation, dropout=s.dropout, input_dropout=s.input_dropout,
                 init=s.init, prelu=s.prelu, rngs=nnx.Rngs(params=seed))
    tx = make_optimizer("adamw" if s.weight_decay else "adam", s.learning_rate,
                        weight_decay=s.weight_decay)
    graphdef, state = init_state(model, tx, seed)
    train_step = make_train_step(graphdef, tx, objective=objective or accumulated_cross_entropy(
        s.batch_size), step_key=epoch_key)
    logits = make_logits_fn(graphdef)
    train = np.asarray(data.train)
    batch = {"x": jnp.asarray(hop_features[train]),
             "y": jnp.asarray(np.asarray(data.labels)[train])}
    x_val, x_test = (jnp.asarray(hop_features[np.asarray(i)]) for i in (data.val, data.test))

    def evaluate(epoch, state):
        on_eval(epoch, np.asarray(logits(state.params, x_val)),
                np.asarray(logits(state.params, x_test)))

    return fit(train_step, state, lambda _step: batch, start=0, stop=s.epochs,
               hooks=[Every(s.eval_every, evaluate)])


def run_sign_node(hop_features: np.ndarray, data: NodeDataset, settings: SignNodeSettings,
                  seed: int) -> dict:
    """Train one seed; return test node / decision accuracy at their best-validation epochs
    (the first strictly best)."""
    labels = np.asarray(data.labels)
    y_val, y_test = labels[data.val], labels[data.test]
    keep_test = y_test >= 0
    best = {"val_acc": -1.0, "val_dec": -1.0}

    def select(epoch, zv, zt):
        val_acc = float(np.mean(zv.argmax(1) == y_val))
        val_dec = decision_accuracy(zv, y_val, data.n_classes)
        if val_acc > best["val_acc"]:
            best.update(val_acc=val_acc, epoch=epoch, test_acc=float(np.mean(
                zt[keep_test].argmax(1) == y_test[keep_test])))
        if val_dec > best["val_dec"]:
            best.update(val_dec=val_dec, dec_epoch=epoch, test_dec=decision_accuracy(
                zt[keep_test], y_test[keep_test], data.n_classes))

    train_sign_node(hop_features, data, settings, seed, select)
    return best


def decision_readouts(hop_features: np.ndarray, data: NodeDataset, settings: SignNodeSettings,
                      seed: int) -> list[dict]:
    """One training run whose decision problem is read out every way in :data:`READOUTS` at
    every evaluation, on the validation and test sets.

    The objective is the mean cross-entropy over the training nodes (with the one dropout key
    of the epoch), as this study has always been run, not Table 1's micro-batch sum.

    Returns:
      One row per evaluation: ``{"epoch", "val_raw", "test_raw", "val_softmax", ...}``.
    """
    labels = np.asarray(data.labels)
    splits = {"val": labels[data.val], "test": labels[data.test]}
    rows = []

    def read_out(epoch, zv, zt):
        z = {"val": zv, "test": zt}
        rows.append({"epoch": epoch, **{f"{split}_{name}": decision_accuracy(
            f(z[split]), splits[split], data.n_classes)
            for split in splits for name, f in READOUTS.items()}})

    train_sign_node(hop_features, data, settings, seed, read_out, objective=cross_entropy)
    return rows


def best_readouts(rows: list[dict]) -> dict[str, tuple[int, float]]:
    """Per read-out: ``(epoch, test accuracy)`` at the first best validation accuracy."""
    out = {}
    for name in READOUTS:
        best = max(rows, key=lambda r: r[f"val_{name}"])          # first maximum
        out[name] = (best["epoch"], best[f"test_{name}"])
    return out
