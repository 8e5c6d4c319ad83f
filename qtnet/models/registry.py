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
        reads the data's quantum state from it); one that declares ``trained`` gets the
        trainer's reader of trained runs, ``trained(run_folder, step) -> nnx.Module`` (a
        model built on a frozen, pre-trained one).
    """
    def wrap(builder: Builder) -> Builder:
        register_section("model", name, section)
        return _MODELS.register(name, builder)
    return wrap


def available_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_MODELS.names())


def build_model(config: Config, sample_shape: tuple[int, ...] | int, n_classes: int,
                rngs: nnx.Rngs, *, data=None, trained=None) -> nnx.Module:
    """The model named by ``config.model.type``, for samples of ``sample_shape`` (an int is
    ``(n_features,)``); an unknown name lists the valid ones. ``data`` (the dataset) and
    ``trained`` (a reader of trained runs) are passed on to builders that declare them."""
    builder = _MODELS.get(config.model.type)
    shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
    backend: BackendConfig = config.backend
    declared = inspect.signature(builder).parameters
    extra = {k: v for k, v in (("data", data), ("trained", trained)) if k in declared}
    if "trained" in declared and trained is None:
        raise ValueError(f"model.type {config.model.type} builds on a trained run: pass "
                         f"trained= (qtnet.training.setup.trained_model)")
    return builder(config.model, sample_shape=shape, n_classes=n_classes,
                   backend=backend, rngs=rngs, **extra)
