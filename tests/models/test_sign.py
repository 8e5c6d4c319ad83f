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


def _set(model, **values):
    for name, value in values.items():
        getattr(model, name)[...] = jnp.asarray(value, jnp.float32)


# Two hops, two features, one hidden unit, two classes, worked by hand:
#   t_0 = 1*1 + 1*2 + 0.5 = 3.5,  t_1 = 2*(-1) + 4*0.5 - 1 = -1
#   poly (c = [1, 2, 3], [0, 1, -1]): H = [1 + 7 + 36.75, -1 - 1] = [44.75, -2]
#   PReLU (slopes 0.25, 0.1):         H = [3.5, -0.1]
#   logits = H @ [[1, 0], [0, 2]] + [0.5, -0.5]
X = [[[1.0, 1.0], [2.0, 4.0]]]
W = [[[1.0], [2.0]], [[-1.0], [0.5]]]
B = [[0.5], [-1.0]]


def test_poly_and_prelu_features_and_logits_of_a_hand_worked_case():
    for activation, hidden, logits in [("poly", [44.75, -2.0], [45.25, -4.5]),
                                       ("prelu", [3.5, -0.1], [4.0, -0.7])]:
        model = SIGN(2, 2, hops=1, hidden=1, activation=activation, rngs=nnx.Rngs(params=0))
        _set(model, w=W, b=B)
        if activation == "poly":
            _set(model, coef=[[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])
        else:
            _set(model, slope=[[0.25], [0.1]])
        model.out.kernel[...] = jnp.asarray([[1.0, 0.0], [0.0, 2.0]])
        model.out.bias[...] = jnp.asarray([0.5, -0.5])
        x = jnp.asarray(X)
        np.testing.assert_allclose(model.hidden_features(x)[0, :, 0], hidden, rtol=1e-6)
        np.testing.assert_allclose(model(x)["logits"][0], logits, rtol=1e-6)


def test_poly_starts_at_the_papers_coefficients_and_drops_out_only_with_a_key():
    model = SIGN(3, 2, hops=2, hidden=5, activation="poly", rngs=nnx.Rngs(params=0))
    np.testing.assert_allclose(model.coef[...], np.tile(POLY_INIT, (3, 1)), rtol=1e-7)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 3, 3)))
    eval_a, eval_b = model(x)["logits"], model(x)["logits"]
    np.testing.assert_array_equal(eval_a, eval_b)
    train_a = model(x, key=jax.random.PRNGKey(1))["logits"]
    train_b = model(x, key=jax.random.PRNGKey(1))["logits"]
    np.testing.assert_array_equal(train_a, train_b)
    assert not np.allclose(train_a, eval_a)


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
