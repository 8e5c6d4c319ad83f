"""SIGN (Frasca et al. 2020) node classifier, as in the paper: PReLU or a trainable degree-2
polynomial activation on every hop, concatenation, a linear read-out.

    X_k = T^k X  (k = 0..R, precomputed: :func:`qtnet.data.features.sign_hops`)
    H_k = sigma(dropout(X_k) W_k + b_k)
    Z   = dropout(concat_k H_k) W_out + b_out
    sigma(t) = c0 + c1 t + c2 t^2 (c per hop, trainable, initialised to a GELU fit) or PReLU.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from qtnet.config import BackendConfig, ConfigError, field
from qtnet.models.registry import register_model

POLY_INIT = (0.0169394634313126, 0.5, 0.3078363963999393)    # the paper's GELU fit


class SIGN(nnx.Module):
    """``x [batch, R + 1, n_features]`` (hop features of each node) -> logits ``[batch, C]``.

    Computed classically and exactly: the reported ``fidelity`` is 1 because nothing is
    truncated (see :class:`~qtnet.gnn.SignCircuit` for the circuit form and its fidelity).

    Args:
      activation: ``poly`` (trainable c0 + c1 t + c2 t^2 per hop) or ``prelu``.
    """

    def __init__(self, n_features: int, n_classes: int, *, hops: int, hidden: int,
                 activation: str = "poly", dropout: float = 0.4, input_dropout: float = 0.3,
                 rngs: nnx.Rngs):
        if activation not in ("poly", "prelu"):
            raise ValueError(f"activation must be poly or prelu, got {activation!r}")
        self.activation = activation
        k = hops + 1
        init = nnx.initializers.lecun_normal()
        self.w = nnx.Param(jax.vmap(lambda key: init(key, (n_features, hidden)))(
            jax.random.split(rngs.params(), k)))                       # [K, F, H]
        self.b = nnx.Param(jnp.zeros((k, hidden)))
        if activation == "poly":
            self.coef = nnx.Param(jnp.tile(jnp.asarray(POLY_INIT), (k, 1)))   # [K, 3]
        else:
            self.slope = nnx.Param(jnp.full((k, hidden), 0.25))       # PReLU, torch's init
        self.out = nnx.Linear(k * hidden, n_classes, rngs=rngs)
        self.drop = nnx.Dropout(dropout)
        self.drop_in = nnx.Dropout(input_dropout)

    def hidden_features(self, x, key=None):
        """``[batch, K, H]``: the activated per-hop features (dropout only with a ``key``)."""
        if key is not None:
            x = self.drop_in(x, deterministic=False, rngs=key)
        t = jnp.einsum("bkf,kfh->bkh", x, self.w[...]) + self.b[...]
        if self.activation == "poly":
            c = self.coef[...]
            return c[:, 0, None] + c[:, 1, None] * t + c[:, 2, None] * t * t
        return jnp.where(t >= 0, t, self.slope[...] * t)

    def __call__(self, x, key=None) -> dict:
        """Training mode (dropout) when given a ``key``; evaluation mode without."""
        k_in, k_hidden = jax.random.split(key) if key is not None else (None, None)
        h = self.hidden_features(x, k_in).reshape(x.shape[0], -1)
        if k_hidden is not None:
            h = self.drop(h, deterministic=False, rngs=k_hidden)
        logits = self.out(h)
        # classical arithmetic, nothing truncated: the fidelity is exactly 1, not an estimate
        # (the circuit form's is SignCircuit.output_network's, a product of kept weights)
        return {"logits": logits, "fidelity": jnp.ones(x.shape[:1], logits.dtype)}


@dataclasses.dataclass(frozen=True)
class SignConfig:
    """``model`` section of the SIGN node classifier (``model.type: sign``)."""

    type: str = field("sign", help="model name")
    hidden: int = field(64, min=1, help="hidden width of every hop")
    activation: str = field("poly", choices=("poly", "prelu"),
                            help="trainable degree-2 polynomial or PReLU")
    dropout: float = field(0.4, min=0.0, max=1.0, help="dropout on the hidden layer")
    input_dropout: float = field(0.3, min=0.0, max=1.0, help="dropout on the inputs")


@register_model("sign", SignConfig)
def build_sign(config: SignConfig, *, sample_shape: tuple[int, ...], n_classes: int,
               backend: BackendConfig, rngs: nnx.Rngs) -> SIGN:
    """A SIGN over samples ``[hops + 1, features]`` (its hop count is the data's)."""
    if len(sample_shape) != 2:
        raise ConfigError(f"model.type: sign needs node samples [hops + 1, features] (a graph "
                          f"dataset such as cora or grid); the data's samples have shape "
                          f"{tuple(sample_shape)}")
    hops, n_features = sample_shape[0] - 1, sample_shape[1]
    return SIGN(n_features, n_classes, hops=hops, hidden=config.hidden,
                activation=config.activation, dropout=config.dropout,
                input_dropout=config.input_dropout, rngs=rngs)
