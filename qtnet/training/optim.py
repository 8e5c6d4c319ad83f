"""optax optimisers and learning-rate schedules: pure builders, and their config adapters."""

from __future__ import annotations

import optax

from qtnet.config import Config

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "lion")


def make_optimizer(name: str, learning_rate: float | optax.Schedule, *,
                   weight_decay: float = 0.0, momentum: float = 0.9,
                   grad_clip: float | None = None) -> optax.GradientTransformation:
    """An optax optimiser by name.

    Args:
      name: one of :data:`OPTIMIZERS`.
      learning_rate: a constant or a schedule of the update count.
      weight_decay: decoupled for ``adamw`` and ``lion``; for ``adam``, ``sgd`` and
        ``rmsprop`` coupled (torch style: L2 added to the gradient before the moments).
      momentum: ``sgd`` (0 = none) and ``rmsprop`` only.
      grad_clip: clip the gradient to this global norm first; ``None`` = off.

    Returns:
      The gradient transformation.
    """
    if name == "adam":
        tx = optax.adam(learning_rate)
    elif name == "adamw":
        tx = optax.adamw(learning_rate, weight_decay=weight_decay)
    elif name == "sgd":
        tx = optax.sgd(learning_rate, momentum=momentum or None)
    elif name == "rmsprop":
        tx = optax.rmsprop(learning_rate, momentum=momentum)
    elif name == "lion":
        tx = optax.lion(learning_rate, weight_decay=weight_decay)
    else:
        raise ValueError(f"unknown optimiser {name!r}; valid optimisers: {', '.join(OPTIMIZERS)}")
    if weight_decay and name in ("adam", "sgd", "rmsprop"):
        tx = optax.chain(optax.add_decayed_weights(weight_decay), tx)
    if grad_clip is not None:
        tx = optax.chain(optax.clip_by_global_norm(grad_clip), tx)
    return tx


def step_decay_schedule(learning_rate: float, every: int, factor: float) -> optax.Schedule:
    """``learning_rate * factor ** (count // every)`` (torch's ``StepLR``)."""
    return optax.exponential_decay(learning_rate, every, factor, staircase=True)


def learning_rate_schedule(config: Config) -> optax.Schedule:
    """The schedule ``config.schedule`` describes, laid out over ``training.steps``."""
    lr, sched, steps = config.optimizer.learning_rate, config.schedule, config.training.steps
    end = lr * sched.end_factor
    if sched.type == "constant":
        base = optax.constant_schedule(lr)
    elif sched.type == "linear":
        base = optax.linear_schedule(lr, end, max(1, steps - sched.warmup_steps))
    else:                                   # cosine / warmup_cosine
        base = optax.cosine_decay_schedule(lr, max(1, steps - sched.warmup_steps),
                                           alpha=sched.end_factor)
    if not sched.warmup_steps:
        return base
    warmup = optax.linear_schedule(0.0, lr, sched.warmup_steps)
    return optax.join_schedules([warmup, base], [sched.warmup_steps])


def build_optimizer(config: Config) -> optax.GradientTransformation:
    """The optimiser ``config.optimizer`` names, on :func:`learning_rate_schedule`."""
    opt = config.optimizer
    return make_optimizer(opt.name, learning_rate_schedule(config),
                          weight_decay=opt.weight_decay, momentum=opt.momentum,
                          grad_clip=opt.grad_clip)
