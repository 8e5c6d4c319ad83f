"""optax optimisers and learning-rate schedules from the config."""

from __future__ import annotations

import optax

from qtnet.config import Config


def learning_rate_schedule(config: Config) -> optax.Schedule:
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
    opt, lr = config.optimizer, learning_rate_schedule(config)
    if opt.name == "adam":
        tx = optax.adam(lr)
    elif opt.name == "adamw":
        tx = optax.adamw(lr, weight_decay=opt.weight_decay)
    elif opt.name == "sgd":
        tx = optax.sgd(lr, momentum=opt.momentum or None)
    elif opt.name == "rmsprop":
        tx = optax.rmsprop(lr, momentum=opt.momentum)
    else:
        tx = optax.lion(lr, weight_decay=opt.weight_decay)
    if opt.weight_decay and opt.name in ("adam", "sgd", "rmsprop"):
        tx = optax.chain(optax.add_decayed_weights(opt.weight_decay), tx)
    if opt.grad_clip is not None:
        tx = optax.chain(optax.clip_by_global_norm(opt.grad_clip), tx)
    return tx
