"""SIGN: hop features, the polynomial and PReLU activations, dropout only when training,
and the decision-problem metric."""

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp
from flax import nnx

from qtnet.data.features import sign_hops, sign_operator
from qtnet.data.types import NodeDataset
from qtnet.models.sign import POLY_INIT, SIGN
from qtnet.experiments.decision import decision_accuracy


def _toy():
    a = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 1, 1], [0, 1, 0, 0], [0, 1, 0, 0.0]]))
    x = sp.csr_matrix(np.array([[1, 0, 0], [0, 2, 0], [0, 0, 1], [1, 1, 0.0]]))
    return NodeDataset("toy", x, np.array([0, 1, 0, 1]), a, np.array([0, 1]), np.array([2]),
                       np.array([3]))


def test_sign_operator_and_hops_match_the_dense_formula():
    d = _toy()
    a = d.adjacency.toarray() + np.eye(4)
    s = a / np.sqrt(a.sum(1))[:, None] / np.sqrt(a.sum(1))[None, :]
    t = s / s.sum(1, keepdims=True)
    np.testing.assert_allclose(sign_operator(d.adjacency).toarray(), t)
    x = d.features.toarray()
    x = x / x.sum(1, keepdims=True)
    hops = sign_hops(d, 3, dtype=np.float64)
    for k in range(4):
        np.testing.assert_allclose(hops[:, k], np.linalg.matrix_power(t, k) @ x, atol=1e-12)


def test_poly_activation_and_dropout_only_with_a_key():
    model = SIGN(3, 2, hops=2, hidden=5, activation="poly", rngs=nnx.Rngs(params=0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 3, 3)))
    t = jnp.einsum("bkf,kfh->bkh", x, model.w[...]) + model.b[...]
    c = np.asarray(POLY_INIT)
    np.testing.assert_allclose(model.hidden_features(x), c[0] + c[1] * t + c[2] * t**2,
                               rtol=1e-6)
    eval_a, eval_b = model(x)["logits"], model(x)["logits"]
    np.testing.assert_array_equal(eval_a, eval_b)
    train_a = model(x, key=jax.random.PRNGKey(1))["logits"]
    train_b = model(x, key=jax.random.PRNGKey(1))["logits"]
    np.testing.assert_array_equal(train_a, train_b)
    assert not np.allclose(train_a, eval_a)
    prelu = SIGN(3, 2, hops=2, hidden=5, activation="prelu", rngs=nnx.Rngs(params=0))
    t = jnp.einsum("bkf,kfh->bkh", x, prelu.w[...]) + prelu.b[...]
    np.testing.assert_allclose(prelu.hidden_features(x), np.where(t >= 0, t, 0.25 * t),
                               rtol=1e-6)


def test_decision_accuracy_counts_class_pairs():
    labels = np.array([0, 0, 0, 1, 1, 2])              # counts 3 > 2 > 1
    right = np.tile([3.0, 2.0, 1.0], (6, 1))            # mean logits ordered like the counts
    assert decision_accuracy(right, labels, 3) == 1.0
    wrong = right[:, ::-1]
    assert decision_accuracy(wrong, labels, 3) == 0.0
    tie = np.array([0, 0, 1, 1])                        # 0 vs 1 tie: "no" is right
    assert decision_accuracy(np.tile([1.0, 1.0, 0.0], (4, 1)), tie, 3) == 1.0


def test_the_sign_builder_reads_its_hops_from_the_samples():
    import pytest

    from qtnet.config import Config, ConfigError, load
    from qtnet.models import build_model

    config = load(Config, None, ["model.type=sign", "model.hidden=5", "data.type=cora"])
    model = build_model(config, (4, 3), 2, nnx.Rngs(params=0))       # samples [hops + 1, F]
    assert model.w.shape == (4, 3, 5) and model.out.kernel.shape == (4 * 5, 2)
    with pytest.raises(ConfigError, match=r"sign needs node samples \[hops \+ 1, features\].*"
                                          r"shape \(64,\)"):
        build_model(config, (64,), 10, nnx.Rngs(params=0))
