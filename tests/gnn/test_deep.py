"""Deep polynomial layers (degree 2^L) through MPS operations: the forward pass equals the
dense model, gradients agree with it, and training through the MPS backend lowers the loss."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qtnet import tn
from qtnet.gnn.deep import dense_logits, init_params, logits_at
from qtnet.gnn.synthetic import node_bits

NODE, FEAT, LAYERS, CLASSES, CHI = 3, 2, 2, 3, 4       # 5 sites; 4 = the full bond cap


def test_deep_mps_forward_and_gradients_match_dense_and_training_lowers_the_loss():
    with jax.enable_x64(True):
        x = tn.scale(tn.random_mps(jax.random.PRNGKey(0), NODE + FEAT, 2, dtype=jnp.float64),
                     2.0 ** (NODE / 2))
        xd = np.asarray(tn.to_dense(x)).reshape(2**NODE, 2**FEAT)
        params = init_params(jax.random.PRNGKey(1), LAYERS, FEAT)
        bits = jnp.asarray(node_bits(np.arange(2**NODE), NODE))
        y = jnp.asarray([0, 1, 2, 0, 1, 2, 0, 1])

        def loss(p, logits_fn):
            return optax.softmax_cross_entropy_with_integer_labels(logits_fn(p), y).mean()

        mps_loss = jax.jit(jax.value_and_grad(lambda p: loss(
            p, lambda q: logits_at(q, x, bits, NODE, CLASSES, max_bond=CHI))))
        dense_loss = jax.value_and_grad(lambda p: loss(p, lambda q: dense_logits(q, xd,
                                                                                  CLASSES)))
        (l_mps, g_mps), (l_dense, g_dense) = mps_loss(params), dense_loss(params)
        np.testing.assert_allclose(l_mps, l_dense, rtol=1e-10)
        a = jnp.concatenate([v.ravel() for v in jax.tree.leaves(g_mps)])
        b = jnp.concatenate([v.ravel() for v in jax.tree.leaves(g_dense)])
        # exact through every compression, rank-deficient bonds included
        assert float(jnp.abs(a - b).max() / jnp.abs(b).max()) < 1e-8

        tx = optax.adam(0.1)
        state, losses = tx.init(params), []
        for _ in range(25):
            value, grads = mps_loss(params)
            updates, state = tx.update(grads, state, params)
            params = optax.apply_updates(params, updates)
            losses.append(float(value))
        assert losses[-1] < 0.6 * losses[0]


def test_hadamard_zips_up_exact_with_room_and_measures_what_it_discards():
    with jax.enable_x64(True):
        a = tn.random_mps(jax.random.PRNGKey(2), 6, 4, max_bond=8, dtype=jnp.float64)
        b = tn.random_mps(jax.random.PRNGKey(3), 6, 3, max_bond=8, dtype=jnp.float64)
        exact = tn.to_dense(a) * tn.to_dense(b)
        zip_up = jax.jit(tn.hadamard, static_argnames="max_bond")

        def error(state):
            return float(jnp.linalg.norm(tn.to_dense(state) - exact) / jnp.linalg.norm(exact))

        full = zip_up(a, b, max_bond=8)                  # 2^(6/2): every bond exact
        assert error(full) < 1e-12 and float(full.fidelity_estimate) > 1 - 1e-12
        errors, fidelities = [], []
        for chi in (2, 4):
            out = zip_up(a, b, max_bond=chi)
            errors.append(error(out))
            fidelities.append(float(out.fidelity_estimate))
        assert errors[0] > errors[1] > 1e-6 and fidelities[0] < fidelities[1] < 1
        # the estimate tracks the true loss: 1 - F is of the order of the squared error
        for e, f in zip(errors, fidelities):
            assert 0.2 * e**2 < 1 - f < 5 * e**2 + 1e-3
