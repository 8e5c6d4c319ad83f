"""The gradient-inversion attack recovers a sample from its plain gradient on a small Figure 2
classifier, and fails once DP-SGD's noise drowns the gradient."""

from __future__ import annotations

import jax
import numpy as np
import optax
import pytest
from flax import nnx

from qtnet.models.figure2 import Figure2Classifier
from qtnet.privacy import invert_gradient, private_gradient, reconstruction_error, sample_gradient
from qtnet.training import init_state


@pytest.fixture(scope="module")
def victim():
    # 8 features (3 qubits), 36 parameters: more equations than unknowns.
    model = Figure2Classifier(8, 2, layers=3, depth=2, backend="dense", dtype="float64",
                              init_scale=0.8, rngs=nnx.Rngs(params=3))
    graphdef, state = init_state(model, optax.sgd(1.0), 0)
    x = np.abs(jax.random.normal(jax.random.PRNGKey(7), (8,)))    # pixel-like, >= 0
    return graphdef, state.params, x, 1


def test_reconstruction_error_ignores_norm_and_sign():
    x = np.array([1.0, 2.0, -2.0])
    assert reconstruction_error(x, -3 * x) == pytest.approx((1.0, 0.0))
    cos, mse = reconstruction_error(x, np.array([2.0, -1.0, 0.0]))
    assert cos == pytest.approx(0.0) and mse == pytest.approx(2 / 3)


def test_attack_recovers_the_input_from_a_plain_gradient(victim):
    graphdef, params, x, y = victim
    shared = sample_gradient(graphdef, params, x, y)
    got = invert_gradient(graphdef, params, shared, y, 8, steps=150, restarts=2, x_true=x)
    assert got.cosine > 0.99 and got.mse < 1e-3


def test_attack_fails_under_heavy_dp_noise(victim):
    graphdef, params, x, y = victim
    shared = private_gradient(sample_gradient(graphdef, params, x, y), 0.1, 20.0,
                              jax.random.PRNGKey(0))
    got = invert_gradient(graphdef, params, shared, y, 8, steps=150, restarts=2, clip_norm=0.1,
                          x_true=x)
    assert got.cosine < 0.9
