"""A DLG-style gradient-inversion attack: from the gradient one example contributed to a
shared update, recover that example by optimisation (Zhu et al. 2019, "Deep leakage from
gradients"; the cosine objective of Geiping et al. 2020).

The attacker knows the model, its parameters and the label (the strong attacker of those
papers) and searches for the input ``x'`` whose gradient equals the shared one; against
DP-SGD it also knows the public clipping norm and clips its candidate's gradient alike. (A
cosine objective, Geiping et al. 2020, is not enough here: inputs whose gradients differ only
in length exist.)
The model amplitude-encodes ``x``, so only its direction (up to a sign, for real amplitudes:
|x> and -|x> are one state) is recoverable; the reconstruction is scored on unit vectors.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import optax

from qtnet.training import cross_entropy


def sample_gradient(graphdef, params, x, y):
    """The cross-entropy gradient of one example ``x [features]`` with label ``y``."""
    grads, _ = cross_entropy(graphdef, params, {"x": x[None], "y": jnp.asarray(y)[None]},
                             jax.random.PRNGKey(0))
    return grads


def _squared_distance(a, b) -> jax.Array:
    return sum(jnp.sum((u - v) ** 2) for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def _clip(grads, clip_norm):
    """``grads`` scaled to norm at most ``clip_norm`` (0: unchanged). No inf for "unchanged":
    its branch's zero cotangent times d(inf / norm) would be nan."""
    scale = jnp.where(clip_norm > 0, jnp.minimum(1.0, clip_norm / (optax.tree.norm(grads)
                                                                   + 1e-12)), 1.0)
    return jax.tree.map(lambda g: g * scale, grads)


@dataclasses.dataclass(frozen=True)
class Reconstruction:
    x: jax.Array          # the best guess, a unit vector
    cosine: float         # |<x_true, x_guess>| of the unit vectors (1: exact, up to sign)
    mse: float            # mean squared error of the unit vectors, after matching the sign
    gradient_distance: float   # the attack's objective at the guess, over |shared|^2


def reconstruction_error(x_true, x_guess) -> tuple[float, float]:
    """``(cosine, mse)`` of the two inputs as amplitude-encoded states (unit, sign-free)."""
    u = x_true / jnp.linalg.norm(x_true)
    v = x_guess / jnp.linalg.norm(x_guess)
    cos = float(jnp.abs(jnp.vdot(u, v)))
    mse = float(jnp.minimum(jnp.mean((u - v) ** 2), jnp.mean((u + v) ** 2)))
    return cos, mse


# clip_norm is traced (0: no clipping), so attacks with and without DP share one compile.
@functools.partial(jax.jit, static_argnames=("graphdef", "steps", "learning_rate"))
def _search(x0, params, shared_grads, y, clip_norm, *, graphdef, steps: int,
            learning_rate: float):
    """``steps`` Adam steps on the unit sphere from ``x0``; the final guess and objective."""
    scale = _squared_distance(shared_grads, jax.tree.map(jnp.zeros_like, shared_grads))

    def objective(x):
        candidate = _clip(sample_gradient(graphdef, params, x, y), clip_norm)
        return _squared_distance(candidate, shared_grads) / scale

    tx = optax.adam(learning_rate)

    def step(carry, _):
        x, opt = carry
        value, g = jax.value_and_grad(objective)(x)
        updates, opt = tx.update(g, opt, x)
        x = optax.apply_updates(x, updates)
        return (x / jnp.linalg.norm(x), opt), value

    (x, _), _ = jax.lax.scan(step, (x0, tx.init(x0)), None, length=steps)
    return x, objective(x)


def invert_gradient(graphdef, params, shared_grads, y, n_features: int, *, steps: int = 300,
                    learning_rate: float = 0.05, restarts: int = 4, seed: int = 0,
                    clip_norm: float | None = None, x_true=None) -> Reconstruction:
    """Search for the input whose gradient matches ``shared_grads`` (best of ``restarts``).

    Args:
      graphdef: the model the gradient was taken on (its structure ...)
      params: ... and its parameters.
      shared_grads: what the client shared (plain, or clipped and noised by DP-SGD).
      y: the example's label (known to the attacker).
      n_features: length of the input.
      clip_norm: DP-SGD's clipping norm (public), applied to the candidate's gradient.
      x_true: the real input, only to score the guess (never used by the search).
    """
    best = None
    for r in range(restarts):
        x0 = jax.random.normal(jax.random.PRNGKey(seed * 1000 + r), (n_features,))
        x, value = _search(x0 / jnp.linalg.norm(x0), params, shared_grads, jnp.asarray(y),
                           0.0 if clip_norm is None else float(clip_norm),
                           graphdef=graphdef, steps=steps, learning_rate=learning_rate)
        if best is None or float(value) < best[1]:
            best = (x, float(value))
    x, value = best
    cos, mse = (reconstruction_error(x_true, x) if x_true is not None
                else (float("nan"), float("nan")))
    return Reconstruction(x, cos, mse, value)
