"""Frozen-dataclass configs from YAML plus ``--set a.b=c`` overrides, validated before use.

A schema is a tree of frozen dataclasses. Each field may carry ``metadata`` with ``choices``
(allowed values), ``min``/``max`` (inclusive bounds) and ``help``; :func:`field` builds them.
A field made by :func:`qtnet.config.choice.choice` holds a tagged section whose dataclass its
``type`` key picks. YAML files hold only what differs from the defaults. Every problem is a
:class:`ConfigError` whose one-line message names the key, what was expected and what was
found.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from qtnet.config.choice import Choice, section_class
from qtnet.config.errors import ConfigError


def field(default, *, choices=None, min=None, max=None, help: str = ""):  # noqa: A002
    """A dataclass field with validation metadata (``choices``, inclusive ``min``/``max``)."""
    meta = {"choices": choices, "min": min, "max": max, "help": help}
    return dataclasses.field(default=default, metadata=meta)


def section(cls):
    """A nested dataclass field defaulting to ``cls()``."""
    return dataclasses.field(default_factory=cls)


def _field_types(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _allowed(tp) -> tuple[type, ...]:
    """The plain types a field annotation admits (``int | None`` -> (int, NoneType))."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return tuple(t for arg in typing.get_args(tp) for t in _allowed(arg))
    return (tp,)


def _type_name(tp) -> str:
    return " or ".join("null" if t is type(None) else t.__name__ for t in _allowed(tp))


def _coerce(value, tp, key: str):
    """Check ``value`` against the annotation ``tp``; ints widen to float, '1e-3' reads as float."""
    allowed = _allowed(tp)
    if value is None:
        if type(None) in allowed:
            return None
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got null")
    if isinstance(value, bool):
        if bool in allowed:
            return value
    elif isinstance(value, int) and int in allowed:
        return value
    elif isinstance(value, int | float) and float in allowed:
        return float(value)
    elif isinstance(value, str) and str in allowed:
        return value
    elif isinstance(value, str) and float in allowed:
        try:                        # YAML 1.1 reads "1e-3" (no dot) as a string
            return float(value)
        except ValueError:
            pass
    raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r} "
                      f"({type(value).__name__})")


# No real run needs a count, size or seed beyond this; larger integers are typos (and
# overflow int64 / hang a loop) unless a field sets its own ``max``.
MAX_INT = 2**31 - 1


def _check_value(value, meta, key: str):
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        names = ("null" if c is None else str(c) for c in choices)
        raise ConfigError(f"{key}: expected one of {', '.join(names)}; got {value!r}")
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    lo, hi = meta.get("min"), meta.get("max")
    if hi is None and isinstance(value, int):
        hi = MAX_INT
    if lo is not None and value < lo:
        raise ConfigError(f"{key}: expected a value >= {lo}, got {value!r}")
    if hi is not None and value > hi:
        raise ConfigError(f"{key}: expected a value <= {hi}, got {value!r}")


def _choice_of(field_) -> Choice | None:
    return field_.metadata.get("choice")


def _from_choice(choice: Choice, data, prefix: str):
    """The section ``data`` names by its tag (or the default), built from the rest."""
    where = prefix.rstrip(".")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys, got {data!r}")
    tag = choice.tag_of(data, where)
    tag = choice.default if tag is None else tag
    cls = section_class(choice.kind, tag)
    rest = {k: v for k, v in data.items() if k not in (choice.tag, *choice.aliases)}
    return from_dict(cls, {choice.tag: tag, **rest}, prefix, chosen=f"{where}.type {tag}")


def from_dict(cls, data: dict | None, prefix: str = "", *, chosen: str = ""):
    """Build dataclass ``cls`` from a nested dict; unspecified fields keep their defaults.

    Args:
      cls: the dataclass to build.
      data: its keys (nested mappings for nested sections).
      prefix: the dotted path of ``cls`` in the whole config, for messages (``"model."``).
      chosen: for a tagged section, which type chose ``cls`` (named when a key is unknown).
    """
    data = {} if data is None else data
    where = prefix.rstrip(".") or "the top level"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = _field_types(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        for_type = f" (for {chosen})" if chosen else ""
        raise ConfigError(f"unknown key {prefix}{unknown[0]!s} in {where}; valid keys: "
                          f"{', '.join(fields)}{for_type}")
    values = {}
    for name, value in data.items():
        key, tp = f"{prefix}{name}", hints[name]
        if _choice_of(fields[name]) is not None:
            values[name] = _from_choice(_choice_of(fields[name]), value, f"{key}.")
        elif dataclasses.is_dataclass(tp):
            values[name] = from_dict(tp, value, f"{key}.")
        else:
            value = _coerce(value, tp, key)
            _check_value(value, fields[name].metadata, key)
            values[name] = value
    built = cls(**values)
    check = getattr(built, "validate", None)
    if check is not None:
        check()
    return built


def parse_overrides(items: list[str] | None) -> dict:
    """``["a.b=3", "c=x"]`` -> ``{"a": {"b": 3}, "c": "x"}`` (values read as YAML scalars)."""
    tree: dict = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. training.steps=100")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = tree
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {part} is set both as a value and a section")
        node[parts[-1]] = value
    return tree


def merge(base: dict, update: dict, schema=None) -> dict:
    """Deep merge of nested dicts, ``update`` winning.

    With a ``schema`` (the dataclass both describe), a tagged section whose type ``update``
    changes starts afresh: ``base``'s keys for the old type are dropped, so
    ``--set model.type=mlp`` on a file written for ``figure2`` gives an ``mlp`` with its own
    defaults plus whatever ``update`` sets beside the type.
    """
    fields = {f.name: f for f in dataclasses.fields(schema)} if schema is not None else {}
    hints = _field_types(schema) if schema is not None else {}
    out = dict(base)
    for key, value in update.items():
        old = out.get(key)
        if not (isinstance(value, dict) and isinstance(old, dict)):
            out[key] = value
            continue
        choice = _choice_of(fields[key]) if key in fields else None
        if choice is not None:
            new_tag, old_tag = choice.tag_of(value, key), choice.tag_of(old, key)
            if new_tag is not None and new_tag != (choice.default if old_tag is None
                                                   else old_tag):
                out[key] = value
                continue
            out[key] = merge(old, value)
        else:
            sub = hints.get(key)
            out[key] = merge(old, value, sub if dataclasses.is_dataclass(sub) else None)
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (else the last wins)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_yaml(path: str | Path) -> dict:
    """The mapping in a YAML file; a missing, unreadable or non-UTF-8 file, malformed YAML or
    a key given twice is a ConfigError."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a config file; pass a YAML file, e.g. "
                          f"configs/quickstart.yaml")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path} is not UTF-8 text (byte {err.start}: "
                          f"{err.object[err.start:err.start + 1]!r}); save it as UTF-8") from None
    except OSError as err:
        raise ConfigError(f"cannot read the config file {path}: {err.strerror}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)   # noqa: S506 - a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "could not parse"
        raise ConfigError(f"malformed YAML in {path}{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level, "
                          f"got {type(data).__name__}")
    return data


def load(cls, path: str | Path | None = None, overrides: list[str] | None = None):
    """Defaults of ``cls``, then the YAML file, then ``--set`` overrides; validated."""
    data = read_yaml(path) if path is not None else {}
    return from_dict(cls, merge(data, parse_overrides(overrides), cls))


def to_dict(config) -> dict:
    """The nested dict of a config (tagged sections keep their ``type``)."""
    return dataclasses.asdict(config)


def dump_yaml(config, path: str | Path) -> None:
    """Write the resolved config as YAML; :func:`load` reads it back equal."""
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
