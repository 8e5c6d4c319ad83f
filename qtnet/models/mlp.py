"""A classical baseline: a one-hidden-layer perceptron with the circuit models' interface."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from qtnet.config import BackendConfig, field
from qtnet.models.registry import register_model


class MLPClassifier(nnx.Module):
    """``x [batch, n_features]`` -> logits ``[batch, n_classes]`` through one GELU layer."""

    def __init__(self, n_features: int, n_classes: int, *, hidden: int, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(n_features, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, n_classes, rngs=rngs)

    def features(self, x):
        """The hidden layer's activations ``[batch, hidden]`` (what transfer learning reuses)."""
        return jax.nn.gelu(self.hidden(x))

    def __call__(self, x, key=None) -> dict:       # deterministic: key unused
        logits = self.out(self.features(x))
        # classical arithmetic, nothing truncated: the fidelity is exactly 1
        return {"logits": logits, "fidelity": jnp.ones(x.shape[:1], logits.dtype)}


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    """``model`` section of the perceptron baseline (``model.type: mlp``)."""

    type: str = field("mlp", help="model name")
    hidden: int = field(64, min=1, help="hidden width")


@register_model("mlp", MLPConfig)
def build_mlp(config: MLPConfig, *, sample_shape: tuple[int, ...], n_classes: int,
              backend: BackendConfig, rngs: nnx.Rngs) -> MLPClassifier:
    """An MLP over the last axis of the samples."""
    return MLPClassifier(sample_shape[-1], n_classes, hidden=config.hidden, rngs=rngs)
