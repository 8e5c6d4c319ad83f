"""Things by name: the one registry behind models, datasets and backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Names to items, in registration order.

    Registering a taken name is an error; looking up an unknown name raises ``error`` with a
    message that names the config key (if any) and lists the valid names.

    Args:
      noun: what an item is, for messages ("model", "dataset", "backend").
      key: the config key that holds a name, e.g. ``"model.type"``; prefixes lookup errors.
      error: the exception raised for an unknown name (a ``ConfigError`` for config keys).
    """

    def __init__(self, noun: str, *, key: str | None = None,
                 error: type[Exception] = ValueError):
        self.noun, self.key, self.error = noun, key, error
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name``; returns it (so this works inside a decorator)."""
        if name in self._items:
            raise ValueError(f"{self.noun} {name!r} is already registered")
        self._items[name] = item
        return item

    def get(self, name) -> T:
        """The item of ``name``; an unknown name raises ``error`` listing the valid names."""
        if not isinstance(name, str) or name not in self._items:
            where = f"{self.key}: " if self.key else ""
            raise self.error(f"{where}unknown {self.noun} {name!r}; valid {self.noun}s: "
                             f"{', '.join(sorted(self._items)) or 'none'}")
        return self._items[name]

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order."""
        return tuple(self._items)

    def __contains__(self, name) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())
