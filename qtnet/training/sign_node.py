"""The paper's node-classification protocol for SIGN (Table 1): full-batch Adam steps on the
training nodes, evaluation every few epochs, test figures at the epoch of best validation.

Node accuracy is selected by validation accuracy; the decision problem (on the test set)
by validation decision accuracy, each at its own best epoch, as the paper does.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from qtnet.data.types import NodeDataset
from qtnet.models.sign import SIGN
from qtnet.training.decision import decision_accuracy


@dataclasses.dataclass(frozen=True)
class SignNodeSettings:
    activation: str = "poly"        # poly | prelu
    hops: int = 5
    hidden: int = 512
    dropout: float = 0.4
    input_dropout: float = 0.3
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    epochs: int = 1000
    eval_every: int = 10
    batch_size: int = 1000          # gradients accumulated over batches of training nodes


def run_sign_node(hop_features: np.ndarray, data: NodeDataset, settings: SignNodeSettings,
                  seed: int) -> dict:
    """Train one seed; return test node / decision accuracy at their best-validation epochs."""
    s = settings
    model = SIGN(hop_features.shape[2], data.n_classes, hops=s.hops, hidden=s.hidden,
                 activation=s.activation, dropout=s.dropout, input_dropout=s.input_dropout,
                 rngs=nnx.Rngs(params=seed))
    graphdef, params = nnx.split(model, nnx.Param)
    params = nnx.to_pure_dict(params)
    tx = optax.adamw(s.learning_rate, weight_decay=s.weight_decay) if s.weight_decay else \
        optax.adam(s.learning_rate)
    opt_state = tx.init(params)
    x = jnp.asarray(hop_features)
    y = jnp.asarray(data.labels)
    train = np.asarray(data.train)
    batches = [jnp.asarray(train[i:i + s.batch_size]) for i in range(0, len(train), s.batch_size)]

    def loss_fn(p, idx, key):
        logits = nnx.merge(graphdef, p)(x[idx], key=key)["logits"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y[idx]).sum()

    @jax.jit
    def step(p, opt_state, key):
        grads = None
        for b, idx in enumerate(batches):             # a few fixed batches (Cora: one)
            g = jax.grad(loss_fn)(p, idx, jax.random.fold_in(key, b))
            grads = g if grads is None else jax.tree.map(jnp.add, grads, g)
        grads = jax.tree.map(lambda g: g / len(train), grads)
        updates, opt_state = tx.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state

    @jax.jit
    def logits_of(p, idx):
        return nnx.merge(graphdef, p)(x[idx])["logits"]

    val, test = jnp.asarray(data.val), jnp.asarray(data.test)
    y_val, y_test = np.asarray(data.labels)[data.val], np.asarray(data.labels)[data.test]
    keep_test = y_test >= 0
    best = {"val_acc": -1.0, "val_dec": -1.0}
    key = jax.random.PRNGKey(seed)
    for epoch in range(1, s.epochs + 1):
        params, opt_state = step(params, opt_state, jax.random.fold_in(key, epoch))
        if epoch % s.eval_every:
            continue
        zv, zt = np.asarray(logits_of(params, val)), np.asarray(logits_of(params, test))
        val_acc = float(np.mean(zv.argmax(1) == y_val))
        val_dec = decision_accuracy(zv, y_val, data.n_classes)
        if val_acc > best["val_acc"]:
            best.update(val_acc=val_acc, epoch=epoch, test_acc=float(np.mean(
                zt[keep_test].argmax(1) == y_test[keep_test])))
        if val_dec > best["val_dec"]:
            best.update(val_dec=val_dec, dec_epoch=epoch, test_dec=decision_accuracy(
                zt[keep_test], y_test[keep_test], data.n_classes))
    return best
