"""Datasets by name: one registry from a config's ``data`` section to a trainer ``Dataset``.

Each dataset registers a builder and the dataclass of its own config section
(``data.type`` picks it); a table needs only a loader of ``(x, y)`` arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtnet.config import ConfigError, register_section
from qtnet.registry import Registry
from qtnet.data.dataset import Dataset
from qtnet.data.tabular import TableConfig, table_dataset

_BUILDERS: Registry[Callable[[Any], Dataset]] = Registry("dataset", key="data.type",
                                                         error=ConfigError)


def register_dataset(name: str, section: type | None = None):
    """Decorator: register a dataset under ``name`` (then ``data.type: name`` loads it).

    Args:
      name: the dataset's name, its ``data.type``.
      section: the frozen dataclass of its config keys (first field ``type``); the decorated
        function is then ``builder(section) -> Dataset``. Without one, the decorated function
        is a table loader ``loader() -> (x [n, features], y [n])`` (no downloads), split and
        standardised as a :class:`~qtnet.data.tabular.TableConfig` section says.
    """
    def wrap(fn):
        if name in _BUILDERS:     # before its section is registered
            raise ValueError(f"dataset {name!r} is already registered")
        if section is None:
            register_section("data", name, TableConfig)
            _BUILDERS.register(name, lambda config: table_dataset(name, *fn(), config))
        else:
            register_section("data", name, section)
            _BUILDERS.register(name, fn)
        return fn
    return wrap


def available_datasets() -> list[str]:
    """The registered dataset names, sorted."""
    return sorted(_BUILDERS.names())


def load_dataset(config) -> Dataset:
    """The dataset that the ``data`` section ``config`` names by its ``type``."""
    return _BUILDERS.get(config.type)(config)
