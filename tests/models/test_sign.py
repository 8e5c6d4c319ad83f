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


# The authors' code (hmichaeli/quantum_gnns, sign_node_pred.py): torch's default Linear
# init, no self-loops in T, one PReLU slope per hop.

def _is_uniform(values, bound):
    """U(-bound, bound) by a Kolmogorov-Smirnov test, every value inside, the range filled."""
    from scipy import stats

    v = np.asarray(values, np.float64).ravel()
    assert np.abs(v).max() <= bound
    assert np.abs(v).max() > bound * (1 - 10 / v.size)      # fails with odds e^-10 if uniform
    return stats.kstest(v, stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3


def test_torch_init_draws_weights_and_biases_from_u_of_one_over_sqrt_fan_in():
    f, hidden, hops = 200, 150, 1
    model = SIGN(f, 7, hops=hops, hidden=hidden, init="torch", rngs=nnx.Rngs(params=0))
    assert _is_uniform(model.w[...], f ** -0.5)                    # 60k weights
    assert _is_uniform(model.b[...], f ** -0.5)                    # 300 biases, not zero
    fan_out = (hops + 1) * hidden
    assert _is_uniform(model.out.kernel[...], fan_out ** -0.5)
    assert _is_uniform(model.out.bias[...], fan_out ** -0.5)
    # the hops are independent draws
    assert abs(np.corrcoef(np.ravel(model.w[0]), np.ravel(model.w[1]))[0, 1]) < 0.01
    # lecun-normal weights are not uniform; its biases stay zero
    lecun = SIGN(f, 7, hops=hops, hidden=hidden, init="lecun", rngs=nnx.Rngs(params=0))
    assert not _is_uniform(np.clip(lecun.w[...], -f ** -0.5, f ** -0.5), f ** -0.5)
    assert not np.any(lecun.b[...]) and not np.any(lecun.out.bias[...])


def test_sign_operator_without_self_loops_is_the_hand_built_one():
    d = _toy()
    # node 0 - 1, 1 - 2, 1 - 3: degrees 1, 3, 1, 1 (no self-loops)
    s = np.array([[0, 1 / np.sqrt(3), 0, 0],
                  [1 / np.sqrt(3), 0, 1 / np.sqrt(3), 1 / np.sqrt(3)],
                  [0, 1 / np.sqrt(3), 0, 0],
                  [0, 1 / np.sqrt(3), 0, 0]])
    t = s / s.sum(1, keepdims=True)             # rows: [0 1 0 0], [0 1/3 ...]: exact
    np.testing.assert_allclose(sign_operator(d.adjacency, self_loops=False).toarray(), t,
                               atol=1e-15)
    assert not np.allclose(sign_operator(d.adjacency).toarray(), t)
    x = d.features.toarray()
    x = x / x.sum(1, keepdims=True)
    hops = sign_hops(d, 2, self_loops=False, dtype=np.float64)
    np.testing.assert_allclose(hops[:, 2], t @ t @ x, atol=1e-15)
    # an isolated node's row is zero, not a division by zero
    lone = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0.0]]))
    np.testing.assert_array_equal(sign_operator(lone, self_loops=False).toarray(),
                                  [[0, 1, 0], [1, 0, 0], [0, 0, 0]])


def test_per_hop_prelu_has_one_slope_per_hop_and_matches_numpy():
    rng = np.random.default_rng(0)
    model = SIGN(3, 2, hops=2, hidden=4, activation="prelu", prelu="per_hop",
                 rngs=nnx.Rngs(params=0))
    assert model.slope.shape == (3, 1)
    np.testing.assert_array_equal(model.slope[...], 0.25)             # torch's nn.PReLU()
    slopes = np.array([[0.1], [-0.5], [2.0]])
    _set(model, slope=slopes, b=rng.normal(size=(3, 4)))
    x = rng.normal(size=(5, 3, 3)).astype(np.float32)
    t = np.einsum("bkf,kfh->bkh", x, np.asarray(model.w[...])) + np.asarray(model.b[...])
    want = np.where(t >= 0, t, slopes[None] * t)
    assert (t < 0).any(axis=(0, 2)).all()                             # every hop's slope used
    np.testing.assert_allclose(model.hidden_features(jnp.asarray(x)), want, rtol=1e-5,
                               atol=1e-6)
    per_unit = SIGN(3, 2, hops=2, hidden=4, activation="prelu", rngs=nnx.Rngs(params=0))
    assert per_unit.slope.shape == (3, 4)


def test_bad_init_prelu_and_self_loops_values_are_config_errors():
    import pytest

    from qtnet.config import Config, ConfigError, load

    config = load(Config, None, ["model.type=sign", "model.init=torch", "model.prelu=per_hop",
                                 "data.type=cora", "data.self_loops=false"])
    assert (config.model.init, config.model.prelu, config.data.self_loops) == (
        "torch", "per_hop", False)
    for bad, key in [("model.init=xavier", "model.init"), ("model.prelu=shared", "model.prelu"),
                     ("data.self_loops=maybe", "data.self_loops")]:
        with pytest.raises(ConfigError, match=key):
            load(Config, None, ["model.type=sign", "data.type=cora", bad])
    with pytest.raises(ValueError, match="init must be one of torch, lecun"):
        SIGN(3, 2, hops=1, hidden=2, init="xavier", rngs=nnx.Rngs(params=0))
    with pytest.raises(ValueError, match="prelu must be one of per_hop, per_unit"):
        SIGN(3, 2, hops=1, hidden=2, prelu="shared", rngs=nnx.Rngs(params=0))
