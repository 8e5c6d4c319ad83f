"""Models by name: ``build_model(config, n_features, n_classes, rngs)``."""

from __future__ import annotations

from collections.abc import Callable

from flax import nnx

from qtnet.config import Config, ConfigError
from qtnet.models.figure2 import Figure2Classifier
from qtnet.models.mlp import MLPClassifier
from qtnet.models.sign import SIGN

_MODELS: dict[str, Callable] = {}


def register_model(name: str):
    """Decorator: register ``builder(config, n_features, n_classes, rngs) -> nnx.Module``."""
    def wrap(builder):
        if name in _MODELS:
            raise ValueError(f"model {name!r} is already registered")
        _MODELS[name] = builder
        return builder
    return wrap


def available_models() -> list[str]:
    return sorted(_MODELS)


def build_model(config: Config, n_features: int, n_classes: int, rngs: nnx.Rngs) -> nnx.Module:
    """The model named by ``config.model.type``; an unknown name lists the valid ones."""
    name = config.model.type
    if name not in _MODELS:
        raise ConfigError(f"model.type: unknown model {name!r}; valid models: "
                          f"{', '.join(available_models())}")
    return _MODELS[name](config, n_features, n_classes, rngs)


@register_model("figure2")
def _figure2(config: Config, n_features: int, n_classes: int, rngs: nnx.Rngs):
    m, b = config.model, config.backend
    return Figure2Classifier(n_features, n_classes, layers=m.layers, depth=m.depth,
                             ansatz=m.ansatz, backend=b.type, max_bond=b.max_bond,
                             cutoff=b.cutoff, dtype=b.dtype, init_scale=m.init_scale, rngs=rngs)


@register_model("mlp")
def _mlp(config: Config, n_features: int, n_classes: int, rngs: nnx.Rngs):
    return MLPClassifier(n_features, n_classes, hidden=config.model.hidden, rngs=rngs)


@register_model("sign")
def _sign(config: Config, n_features: int, n_classes: int, rngs: nnx.Rngs):
    m = config.model
    return SIGN(n_features, n_classes, hops=config.data.hops, hidden=m.hidden,
                activation=m.activation, dropout=m.dropout, input_dropout=m.input_dropout,
                rngs=rngs)
