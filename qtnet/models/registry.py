"""Models by name: each model module registers a builder and its config section beside its
class; ``build_model(config, sample_shape, n_classes, rngs, data=...)`` builds the one
``model.type`` names."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from flax import nnx

from qtnet.config import BackendConfig, Config, ConfigError, register_section
from qtnet.registry import Registry

# builder(section, *, sample_shape, n_classes, backend, rngs[, data]) -> nnx.Module
Builder = Callable[..., nnx.Module]
_MODELS: Registry[Builder] = Registry("model", key="model.type", error=ConfigError)


def register_model(name: str, section: type):
    """Decorator: register ``builder(section, *, sample_shape, n_classes, backend, rngs)``.

    Args:
      name: the model's name, its ``model.type``.
      section: the frozen dataclass of the model's config keys (first field ``type``).
        ``backend`` is passed to every builder; only models that run on one read it. A
        builder that declares a ``data`` keyword also gets the dataset (a circuit model
        reads the data's quantum state from it).
    """
    def wrap(builder: Builder) -> Builder:
        register_section("model", name, section)
        return _MODELS.register(name, builder)
    return wrap


def available_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_MODELS.names())


def build_model(config: Config, sample_shape: tuple[int, ...] | int, n_classes: int,
                rngs: nnx.Rngs, *, data=None) -> nnx.Module:
    """The model named by ``config.model.type``, for samples of ``sample_shape`` (an int is
    ``(n_features,)``); an unknown name lists the valid ones. ``data`` (the dataset) is
    passed on to builders that declare a ``data`` keyword."""
    builder = _MODELS.get(config.model.type)
    shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
    backend: BackendConfig = config.backend
    extra = {"data": data} if "data" in inspect.signature(builder).parameters else {}
    return builder(config.model, sample_shape=shape, n_classes=n_classes,
                   backend=backend, rngs=rngs, **extra)
