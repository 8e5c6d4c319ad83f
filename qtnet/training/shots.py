"""Finite-shot training (``estimator.shots``): the objective hardware could run.

Each sample's class distribution is estimated from ``shots`` measured copies; the loss is the
cross-entropy of that estimate (add-half smoothing, so an unseen class costs log(2 shots),
not infinity); the gradient is the parameter-shift rule on the class probabilities, each of
the 2P shifted distributions from ``shots`` more copies, chained with the estimated loss's
derivative. Every step reports the copies it used as ``shots``.
"""

from __future__ import annotations

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
from flax import nnx

from qtnet.comm import distribution_shots
from qtnet.config import Config, ConfigError
from qtnet.tn import backends
from qtnet.tn.ansatz import SHIFT_RULE_ANSATZE


def check_shot_training(model, config: Config) -> None:
    """Refuse a model finite-shot training cannot run (before anything is compiled)."""
    if not all(hasattr(model, a) for a in ("encode", "evolve", "class_qubits")):
        raise ConfigError(f"estimator.shots: finite-shot training measures a circuit's class "
                          f"register; model.type {config.model.type} has none (use figure2)")
    if model.ansatz not in SHIFT_RULE_ANSATZE:
        raise ConfigError(f"estimator.shots: the parameter-shift gradient needs gates "
                          f"exp(-i theta G/2) with G^2 = 1 ({', '.join(SHIFT_RULE_ANSATZE)}); "
                          f"model.ansatz is {model.ansatz}")


def shot_cross_entropy(shots: int):
    """The objective ``(graphdef, params, batch, key) -> (grads, metrics)`` of finite-shot
    training (module docstring)."""

    def objective(graphdef, params, batch: dict, key: jax.Array):
        flat, unravel = jax.flatten_util.ravel_pytree(params)
        n_params = flat.shape[0]

        def measured(flat_params, x, k):
            model = nnx.merge(graphdef, unravel(flat_params))
            state = model.evolve(model.encode(x))
            freq = distribution_shots(k, state, model.class_qubits, shots)[:model.n_classes]
            return freq, backends.get(model.backend).fidelity(state)

        def loss_of(freq, y):
            q = freq + 0.5 / shots
            return -jnp.log(q[y] / jnp.sum(q))

        shifts = jnp.concatenate([jnp.eye(n_params), -jnp.eye(n_params)]) * (np.pi / 2)

        def per_sample(x, y, k):
            k_value, k_shift = jax.random.split(k)
            freq, fidelity = measured(flat, x, k_value)
            loss, dloss = jax.value_and_grad(loss_of)(freq, y)
            shifted, _ = jax.vmap(lambda s, ks: measured(flat + s.astype(flat.dtype), x, ks))(
                shifts, jax.random.split(k_shift, 2 * n_params))                 # [2P, C]
            dfreq = (shifted[:n_params] - shifted[n_params:]) / 2                 # [P, C]
            return loss, dfreq @ dloss, jnp.argmax(freq) == y, fidelity

        n = batch["y"].shape[0]
        losses, grads, correct, fidelity = jax.vmap(per_sample)(
            batch["x"], batch["y"], jax.random.split(key, n))
        metrics = {"loss": jnp.mean(losses), "accuracy": jnp.mean(correct),
                   "fidelity": jnp.mean(fidelity), "fidelity_min": jnp.min(fidelity),
                   "shots": jnp.asarray(float(n * (1 + 2 * n_params) * shots))}
        return unravel(jnp.mean(grads, 0).astype(flat.dtype)), metrics

    return objective


__all__ = ["check_shot_training", "shot_cross_entropy"]
