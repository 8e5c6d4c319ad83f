"""A classical baseline: a one-hidden-layer perceptron with the circuit models' interface."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


class MLPClassifier(nnx.Module):
    """``x [batch, n_features]`` -> logits ``[batch, n_classes]`` through one GELU layer."""

    def __init__(self, n_features: int, n_classes: int, *, hidden: int, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(n_features, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, n_classes, rngs=rngs)

    def __call__(self, x, key=None) -> dict:       # deterministic: key unused
        logits = self.out(jax.nn.gelu(self.hidden(x)))
        return {"logits": logits, "fidelity": jnp.ones(x.shape[:1], logits.dtype)}
