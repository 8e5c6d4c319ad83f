"""Models by name: each model module registers a builder and its config section beside its
class; ``build_model(config, sample_shape, n_classes, rngs)`` builds the one ``model.type``
names."""

from __future__ import annotations

from collections.abc import Callable

from flax import nnx

from qtnet.config import BackendConfig, Config, ConfigError, register_section

# builder(section, *, sample_shape, n_classes, backend, rngs) -> nnx.Module
Builder = Callable[..., nnx.Module]
_MODELS: dict[str, Builder] = {}


def register_model(name: str, section: type):
    """Decorator: register ``builder(section, *, sample_shape, n_classes, backend, rngs)``.

    Args:
      name: the model's name, its ``model.type``.
      section: the frozen dataclass of the model's config keys (first field ``type``).
        ``backend`` is passed to every builder; only models that run on one read it.
    """
    def wrap(builder: Builder) -> Builder:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is already registered")
        register_section("model", name, section)
        _MODELS[name] = builder
        return builder
    return wrap


def available_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_MODELS)


def build_model(config: Config, sample_shape: tuple[int, ...] | int, n_classes: int,
                rngs: nnx.Rngs) -> nnx.Module:
    """The model named by ``config.model.type``, for samples of ``sample_shape`` (an int is
    ``(n_features,)``); an unknown name lists the valid ones."""
    name = config.model.type
    if name not in _MODELS:
        raise ConfigError(f"model.type: unknown model {name!r}; valid models: "
                          f"{', '.join(available_models())}")
    shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
    backend: BackendConfig = config.backend
    return _MODELS[name](config.model, sample_shape=shape, n_classes=n_classes,
                         backend=backend, rngs=rngs)
