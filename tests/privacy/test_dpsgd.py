"""DP-SGD: per-example gradients average to the batch gradient; clipping bounds each one; the
Gaussian noise spreads the update by noise_multiplier * clip_norm / batch, as DP-SGD says."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from qtnet.models.figure2 import Figure2Classifier
from qtnet.privacy import dp_optimizer, per_example_cross_entropy, private_gradient
from qtnet.training import cross_entropy, init_state


@pytest.fixture(scope="module")
def tiny():
    model = Figure2Classifier(4, 2, layers=1, depth=2, backend="dense", dtype="float64",
                              init_scale=0.5, rngs=nnx.Rngs(params=0))
    graphdef, state = init_state(model, optax.sgd(1.0), 0)
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 4))
    y = jnp.array([0, 1, 0, 1, 1, 0])
    return graphdef, state.params, {"x": x, "y": y}


def test_per_example_gradients_average_to_the_batch_gradient(tiny):
    graphdef, params, batch = tiny
    key = jax.random.PRNGKey(0)
    per, metrics = jax.jit(per_example_cross_entropy, static_argnums=0)(graphdef, params,
                                                                         batch, key)
    whole, ref = jax.jit(cross_entropy, static_argnums=0)(graphdef, params, batch, key)
    for p, w in zip(jax.tree.leaves(per), jax.tree.leaves(whole)):
        assert p.shape == (6, *w.shape)
        np.testing.assert_allclose(p.mean(0), w, atol=1e-12)
    assert float(metrics["loss"]) == pytest.approx(float(ref["loss"]), abs=1e-12)


def _updates(per_example, clip, sigma, seeds):
    """The SGD (lr 1) update of DP-SGD on fixed per-example gradients, for each noise key."""
    tx = dp_optimizer(optax.sgd(1.0), clip, sigma, jax.random.PRNGKey(0))
    params = jax.tree.map(lambda g: g[0], per_example)

    def one(seed):
        state = dp_optimizer(optax.sgd(1.0), clip, sigma, jax.random.PRNGKey(seed)).init(params)
        updates, _ = tx.update(per_example, state, params)
        return jnp.concatenate([u.ravel() for u in jax.tree.leaves(updates)])

    return np.stack([np.asarray(one(s)) for s in seeds])


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_noise_spreads_the_update_as_predicted(sigma):
    batch, clip = 8, 0.7
    per_example = {"w": jnp.zeros((batch, 50))}          # no signal: the update is the noise
    updates = _updates(per_example, clip, sigma, range(40))      # 40 x 50 draws
    predicted = sigma * clip / batch
    assert np.mean(updates) == pytest.approx(0.0, abs=4 * predicted / np.sqrt(updates.size))
    assert np.std(updates) == pytest.approx(predicted, rel=0.06)


def test_each_example_is_clipped_before_the_mean():
    # One huge and one small example: the mean of the clipped ones, noise off (sigma -> 0).
    per_example = {"w": jnp.array([[30.0, 40.0], [0.3, 0.4]])}   # norms 50 and 0.5
    update = _updates(per_example, 1.0, 1e-12, [0])[0]
    np.testing.assert_allclose(-update, [(0.6 + 0.3) / 2, (0.8 + 0.4) / 2], atol=1e-9)


def test_private_gradient_of_one_example():
    g = {"a": jnp.array([3.0, 4.0])}
    np.testing.assert_allclose(private_gradient(g, 1.0, 1e-12, jax.random.PRNGKey(0))["a"],
                               [0.6, 0.8], atol=1e-9)
    draws = np.stack([private_gradient({"a": jnp.zeros(500)}, 2.0, 1.5,
                                       jax.random.PRNGKey(s))["a"] for s in range(4)])
    assert np.std(draws) == pytest.approx(3.0, rel=0.06)
