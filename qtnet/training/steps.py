"""The training state pytree, the objectives, and the jitted train, eval and logits steps.

An *objective* turns a batch into gradients and measurements:
``objective(graphdef, params, batch, key) -> (grads, metrics)``, ``metrics["loss"]`` included.
:func:`make_train_step` wraps one in the optimiser update; every training path in qtnet (the
trainer, the paper's experiments) builds its step here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx, struct

Objective = Callable[[Any, Any, dict, jax.Array], tuple[Any, dict]]
StepKey = Callable[[jax.Array, jax.Array], jax.Array]


@struct.dataclass
class TrainState:
    """Everything a resume needs besides the config: one pytree, checkpointed whole.

    The data position is ``step`` itself: batch ``s`` is a pure function of (seed, s).
    """

    step: jax.Array            # int32 [], updates done so far
    params: Any                # pure dict of the model's nnx.Param arrays
    opt_state: Any
    rng: jax.Array             # uint32 [2]; step s uses step_key(rng, s)


def new_state(params, tx: optax.GradientTransformation, seed: int) -> TrainState:
    """The state before step 0 of a parameter pytree; its RNG is ``PRNGKey(seed)``."""
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                      rng=jax.random.PRNGKey(seed))


def init_state(model: nnx.Module, tx: optax.GradientTransformation, seed: int):
    """``(graphdef, state)`` for a freshly built model (its ``nnx.Param`` arrays)."""
    graphdef, params = nnx.split(model, nnx.Param)
    return graphdef, new_state(nnx.to_pure_dict(params), tx, seed)


def _loss_and_outputs(graphdef, params, x, y, key=None):
    """Mean cross-entropy; ``key`` puts the model in training mode (dropout etc.)."""
    out = nnx.merge(graphdef, params)(x, key=key)
    losses = optax.softmax_cross_entropy_with_integer_labels(out["logits"], y)
    return jnp.mean(losses), (losses, out)


def cross_entropy(graphdef, params, batch: dict, key: jax.Array) -> tuple[Any, dict]:
    """The default objective: mean cross-entropy over ``batch["x"]``, ``batch["y"]``.

    Returns:
      ``(grads, metrics)``: loss, batch accuracy, mean and minimum fidelity estimate.
    """
    grad_fn = jax.value_and_grad(lambda p: _loss_and_outputs(graphdef, p, batch["x"],
                                                             batch["y"], key), has_aux=True)
    (loss, (_, out)), grads = grad_fn(params)
    correct = jnp.argmax(out["logits"], -1) == batch["y"]
    return grads, {"loss": loss, "accuracy": jnp.mean(correct),
                   "fidelity": jnp.mean(out["fidelity"]),
                   "fidelity_min": jnp.min(out["fidelity"])}


def accumulated_cross_entropy(micro_batch: int) -> Objective:
    """Cross-entropy summed over micro-batches of ``micro_batch`` rows, divided by the rows.

    The gradient of each micro-batch's summed loss is taken with its own dropout key
    ``fold_in(key, b)``; the sum of those gradients is divided by the batch's row count (the
    paper's node protocol: one optimiser step per epoch over all training nodes).
    """
    def loss(graphdef, params, x, y, key):
        logits = nnx.merge(graphdef, params)(x, key=key)["logits"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).sum()

    def objective(graphdef, params, batch: dict, key: jax.Array):
        n = batch["y"].shape[0]
        grads, total = None, 0.0
        for b, start in enumerate(range(0, n, micro_batch)):   # static: a few micro-batches
            rows = slice(start, start + micro_batch)
            value, g = jax.value_and_grad(loss, argnums=1)(
                graphdef, params, batch["x"][rows], batch["y"][rows], jax.random.fold_in(key, b))
            grads = g if grads is None else jax.tree.map(jnp.add, grads, g)
            total = total + value
        return jax.tree.map(lambda g: g / n, grads), {"loss": total / n}

    return objective


def make_train_step(graphdef, tx: optax.GradientTransformation,
                    schedule: optax.Schedule | None = None, *,
                    objective: Objective = cross_entropy,
                    step_key: StepKey = jax.random.fold_in):
    """One jitted ``train_step(state, batch) -> (state, metrics)``.

    Args:
      graphdef: the model's graph definition (from :func:`init_state`).
      tx: the optimiser.
      schedule: reported as ``metrics["learning_rate"]`` when given.
      objective: gradients and measurements of a batch (default :func:`cross_entropy`).
      step_key: the dropout key of step ``s`` from the state's RNG; the default,
        ``fold_in(rng, s)``, makes a resumed run draw exactly the keys the unbroken run drew.
    """

    @jax.jit
    def train_step(state: TrainState, batch: dict):
        key = step_key(state.rng, state.step)
        grads, metrics = objective(graphdef, state.params, batch, key)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = {**metrics, "grad_norm": optax.tree.norm(grads)}
        if schedule is not None:
            metrics["learning_rate"] = schedule(state.step)
        new = state.replace(step=state.step + 1, params=params, opt_state=opt_state)
        return new, metrics

    return train_step


def make_eval_step(graphdef):
    """Jitted ``eval_step(params, batch) -> sums`` over the rows where ``batch["mask"]``."""

    @jax.jit
    def eval_step(params, batch: dict):
        _, (losses, out) = _loss_and_outputs(graphdef, params, batch["x"], batch["y"])
        mask = batch["mask"].astype(losses.dtype)
        correct = (jnp.argmax(out["logits"], -1) == batch["y"]).astype(losses.dtype)
        return {"loss": jnp.sum(losses * mask), "correct": jnp.sum(correct * mask),
                "fidelity": jnp.sum(out["fidelity"].astype(losses.dtype) * mask),
                "count": jnp.sum(mask)}

    return eval_step


def make_logits_fn(graphdef):
    """Jitted ``logits(params, x) -> [batch, classes]`` in evaluation mode (no dropout)."""
    return jax.jit(lambda params, x: nnx.merge(graphdef, params)(x)["logits"])
