"""SIGN (Frasca et al. 2020) node classifier, as in the paper: PReLU or a trainable degree-2
polynomial activation on every hop, concatenation, a linear read-out.

    X_k = T^k X  (k = 0..R, precomputed: :func:`qtnet.data.features.sign_hops`)
    H_k = sigma(dropout(X_k) W_k + b_k)
    Z   = dropout(concat_k H_k) W_out + b_out
    sigma(t) = c0 + c1 t + c2 t^2 (c per hop, trainable, initialised to a GELU fit) or PReLU.

Two choices where the authors' code (hmichaeli/quantum_gnns, ``sign_node_pred.py``) differs
from qtnet's first version, both offered: ``init`` (``torch``: PyTorch's default ``Linear``
initialisation, as the authors ran it; ``lecun``: lecun-normal weights, zero biases) and
``prelu`` (``per_hop``: one slope per hop, torch's ``nn.PReLU()``; ``per_unit``: one per
hidden unit of every hop).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from qtnet.config import BackendConfig, ConfigError, field
from qtnet.models.registry import register_model

POLY_INIT = (0.0169394634313126, 0.5, 0.3078363963999393)    # the paper's GELU fit
INITS = ("torch", "lecun")
PRELUS = ("per_hop", "per_unit")


def torch_uniform(fan_in: int):
    """PyTorch's default ``nn.Linear`` initialiser for weights and biases alike:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5) is this bound)."""
    bound = 1.0 / fan_in ** 0.5

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)
    return init


def linear(n_in: int, n_out: int, init: str, rngs: nnx.Rngs) -> nnx.Linear:
    """``nnx.Linear`` initialised the ``torch`` way or flax's (``lecun``: lecun-normal kernel,
    zero bias)."""
    if init == "lecun":
        return nnx.Linear(n_in, n_out, rngs=rngs)
    return nnx.Linear(n_in, n_out, kernel_init=torch_uniform(n_in),
                      bias_init=torch_uniform(n_in), rngs=rngs)


class SIGN(nnx.Module):
    """``x [batch, R + 1, n_features]`` (hop features of each node) -> logits ``[batch, C]``.

    Computed classically and exactly: the reported ``fidelity`` is 1 because nothing is
    truncated (see :class:`~qtnet.gnn.SignCircuit` for the circuit form and its fidelity).

    Args:
      activation: ``poly`` (trainable c0 + c1 t + c2 t^2 per hop) or ``prelu``.
      init: ``lecun`` (lecun-normal weights, zero biases) or ``torch`` (weights and biases
        U(+-1/sqrt(fan_in)), the authors').
      prelu: ``per_unit`` (slopes ``[K, H]``) or ``per_hop`` (``[K, 1]``, the authors').
    """

    def __init__(self, n_features: int, n_classes: int, *, hops: int, hidden: int,
                 activation: str = "poly", dropout: float = 0.4, input_dropout: float = 0.3,
                 init: str = "lecun", prelu: str = "per_unit", rngs: nnx.Rngs):
        if activation not in ("poly", "prelu"):
            raise ValueError(f"activation must be poly or prelu, got {activation!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        if prelu not in PRELUS:
            raise ValueError(f"prelu must be one of {', '.join(PRELUS)}, got {prelu!r}")
        self.activation = activation
        k = hops + 1
        if init == "lecun":
            lecun = nnx.initializers.lecun_normal()
            self.w = nnx.Param(jax.vmap(lambda key: lecun(key, (n_features, hidden)))(
                jax.random.split(rngs.params(), k)))                   # [K, F, H]
            self.b = nnx.Param(jnp.zeros((k, hidden)))
        else:
            uniform = torch_uniform(n_features)
            self.w = nnx.Param(uniform(rngs.params(), (k, n_features, hidden)))
            self.b = nnx.Param(uniform(rngs.params(), (k, hidden)))
        if activation == "poly":
            self.coef = nnx.Param(jnp.tile(jnp.asarray(POLY_INIT), (k, 1)))   # [K, 3]
        else:   # torch's PReLU init 0.25
            self.slope = nnx.Param(jnp.full((k, hidden if prelu == "per_unit" else 1), 0.25))
        self.out = linear(k * hidden, n_classes, init, rngs)
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
    init: str = field("lecun", choices=INITS,
                      help="lecun: lecun-normal weights, zero biases; torch: weights and biases "
                           "U(+-1/sqrt(fan_in)), PyTorch's default Linear (the authors' code)")
    prelu: str = field("per_unit", choices=PRELUS,
                       help="PReLU slopes: per_unit (one per hidden unit of every hop) or "
                            "per_hop (one per hop, the authors' nn.PReLU())")


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
                input_dropout=config.input_dropout, init=config.init, prelu=config.prelu,
                rngs=rngs)
