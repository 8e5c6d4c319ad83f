"""DP-SGD as a trainer objective and an optax chain: per-example gradients, clipped to a norm,
summed, Gaussian noise of std ``noise_multiplier * clip_norm`` added, divided by the batch.

``per_example_cross_entropy`` is an objective for :func:`qtnet.training.make_train_step` that
returns one gradient per example (a leading batch axis); ``dp_optimizer`` puts optax's
``differentially_private_aggregate`` in front of any optimiser so the step sees the private
mean. The noise key lives in the optimiser state: a fresh state (a new federated round) gets a
fresh key from ``dp_optimizer(..., key)`` without recompiling the step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from qtnet.training import cross_entropy


def per_example_cross_entropy(graphdef, params, batch: dict, key: jax.Array):
    """The cross-entropy gradient of every example, stacked on a leading batch axis.

    Returns:
      ``(grads, metrics)``: ``grads`` with leaves ``[batch, *param_shape]``; ``loss`` and
      ``accuracy`` are batch means, ``per_example_grad_norm`` the mean norm before clipping
      (the step's ``grad_norm`` is the norm of the whole stack).
    """
    def one(x, y):
        return cross_entropy(graphdef, params, {"x": x[None], "y": y[None]}, key)

    grads, metrics = jax.vmap(one)(batch["x"], batch["y"])
    norms = jax.vmap(lambda g: optax.tree.norm(g))(grads)
    out = {k: jnp.mean(v) for k, v in metrics.items() if k != "fidelity_min"}
    out["fidelity_min"] = jnp.min(metrics["fidelity_min"])
    out["per_example_grad_norm"] = jnp.mean(norms)
    return grads, out


def _typed(key: jax.Array) -> jax.Array:
    """optax wants a typed key; a raw ``uint32[2]`` one (``PRNGKey``) is wrapped."""
    return jax.random.wrap_key_data(key) if key.dtype == jnp.uint32 else key


def dp_optimizer(tx: optax.GradientTransformation, clip_norm: float, noise_multiplier: float,
                 key: jax.Array) -> optax.GradientTransformation:
    """``tx`` fed with the DP-SGD mean of per-example gradients (noise drawn from ``key``)."""
    return optax.chain(optax.contrib.differentially_private_aggregate(
        clip_norm, noise_multiplier, _typed(key)), tx)


def private_gradient(grads, clip_norm: float, noise_multiplier: float, key: jax.Array):
    """The DP-SGD release of ONE example's gradient: clipped to ``clip_norm``, plus Gaussian
    noise of std ``noise_multiplier * clip_norm`` per coordinate (what the attack sees)."""
    aggregate = optax.contrib.differentially_private_aggregate(clip_norm, noise_multiplier,
                                                               _typed(key))
    out, _ = aggregate.update(jax.tree.map(lambda g: g[None], grads), aggregate.init(None))
    return out
