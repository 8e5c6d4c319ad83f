"""Tagged-union config sections: the dataclass of a section is chosen by its ``type`` key.

A kind of section (``model``, ``data``) has members registered by name, each a frozen
dataclass whose first field is ``type``. The members of a kind are registered by the
package that owns them (its ``provider``: ``qtnet.models`` registers the models, beside
their classes); the provider is imported the first time a name of that kind is looked up,
so ``qtnet.config`` itself imports neither.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from qtnet.config.errors import ConfigError

_SECTIONS: dict[str, dict[str, type]] = {}
_PROVIDERS: dict[str, str] = {}
_NOUNS = {"data": "dataset"}


@dataclasses.dataclass(frozen=True)
class Choice:
    """How a tagged section is read: its kind, the tag key, accepted aliases, the default."""

    kind: str
    default: str
    tag: str = "type"
    aliases: tuple[str, ...] = ()

    def tag_of(self, data: dict, where: str) -> str | None:
        """The tag a mapping names (through the tag key or an alias), or None."""
        named = {k: data[k] for k in (self.tag, *self.aliases) if k in data}
        if len(set(map(str, named.values()))) > 1:
            given = ", ".join(f"{where}.{k}={v!r}" for k, v in named.items())
            raise ConfigError(f"{where}.{self.tag}: {given} disagree; give one of them")
        return next(iter(named.values()), None)


def register_section(kind: str, name: str, cls: type) -> type:
    """Register dataclass ``cls`` as the section read when ``<kind>.type`` is ``name``."""
    names = [f.name for f in dataclasses.fields(cls)]
    if not names or names[0] != "type":
        raise TypeError(f"{cls.__name__}: a {kind} section's first field must be 'type'")
    known = _SECTIONS.setdefault(kind, {})
    if known.get(name, cls) is not cls:
        raise ValueError(f"{kind} type {name!r} is already registered "
                         f"({known[name].__name__})")
    known[name] = cls
    return cls


def set_provider(kind: str, module: str) -> None:
    """Name the module whose import registers the built-in members of ``kind``."""
    _PROVIDERS[kind] = module


def _ensure_provider(kind: str) -> None:
    module = _PROVIDERS.pop(kind, None)
    if module is not None:
        importlib.import_module(module)


def section_types(kind: str) -> list[str]:
    """The registered names of ``kind``, sorted."""
    _ensure_provider(kind)
    return sorted(_SECTIONS.get(kind, {}))


def section_class(kind: str, name: Any) -> type:
    """The section class registered as ``name``; an unknown name lists the valid ones."""
    _ensure_provider(kind)
    known = _SECTIONS.get(kind, {})
    if not isinstance(name, str) or name not in known:
        noun = _NOUNS.get(kind, kind)
        raise ConfigError(f"{kind}.type: unknown {noun} {name!r}; valid {noun}s: "
                          f"{', '.join(sorted(known))}")
    return known[name]


def default_section(kind: str, name: str):
    """A fresh ``kind`` section of type ``name`` with its defaults."""
    return section_class(kind, name)(type=name)


def choice(kind: str, default: str, *, provider: str, aliases: tuple[str, ...] = ()):
    """A dataclass field holding a tagged ``kind`` section, ``default`` when unspecified."""
    set_provider(kind, provider)
    meta = {"choice": Choice(kind, default, aliases=aliases)}
    return dataclasses.field(default_factory=lambda: default_section(kind, default),
                             metadata=meta)
