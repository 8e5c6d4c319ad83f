"""The training state pytree and the jitted train and eval steps."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx, struct


@struct.dataclass
class TrainState:
    """Everything a resume needs besides the config: one pytree, checkpointed whole.

    The data position is ``step`` itself: batch ``s`` is a pure function of (seed, s).
    """

    step: jax.Array            # int32 [], updates done so far
    params: Any                # pure dict of the model's nnx.Param arrays
    opt_state: Any
    rng: jax.Array             # uint32 [2]; step s uses fold_in(rng, s)


def init_state(model: nnx.Module, tx: optax.GradientTransformation, seed: int):
    """``(graphdef, state)`` for a freshly built model."""
    graphdef, params = nnx.split(model, nnx.Param)
    params = nnx.to_pure_dict(params)
    state = TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                       rng=jax.random.PRNGKey(seed))
    return graphdef, state


def _loss_and_outputs(graphdef, params, x, y, key=None):
    """Mean cross-entropy; ``key`` puts the model in training mode (dropout etc.)."""
    out = nnx.merge(graphdef, params)(x, key=key)
    losses = optax.softmax_cross_entropy_with_integer_labels(out["logits"], y)
    return jnp.mean(losses), (losses, out)


def make_train_step(graphdef, tx: optax.GradientTransformation, schedule: optax.Schedule):
    """One jitted ``train_step(state, batch) -> (state, metrics)``."""

    @jax.jit
    def train_step(state: TrainState, batch: dict):
        # Per-step randomness (dropout, ...) from fold_in(rng, step): a resumed run draws
        # exactly the keys the unbroken run drew.
        key = jax.random.fold_in(state.rng, state.step)
        grad_fn = jax.value_and_grad(lambda p: _loss_and_outputs(graphdef, p, batch["x"],
                                                                 batch["y"], key), has_aux=True)
        (loss, (_, out)), grads = grad_fn(state.params)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        correct = jnp.argmax(out["logits"], -1) == batch["y"]
        metrics = {"loss": loss, "accuracy": jnp.mean(correct),
                   "fidelity": jnp.mean(out["fidelity"]),
                   "fidelity_min": jnp.min(out["fidelity"]),
                   "grad_norm": optax.tree.norm(grads),
                   "learning_rate": schedule(state.step)}
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
