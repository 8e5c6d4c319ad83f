"""Network types behind one interface: ``get("mps" | "dense" | "tree" | "tn")`` -> :class:`Backend`.

A new network type is one module defining a frozen backend class (see :mod:`.base`) that it
registers with :func:`register`, imported at the bottom of this file.
"""

from __future__ import annotations

from qtnet.registry import Registry
from qtnet.tn.backends.base import Backend, State

_REGISTRY: Registry[Backend] = Registry("backend")


def register(backend: Backend) -> Backend:
    """Add ``backend`` under ``backend.name`` (an error if the name is taken)."""
    return _REGISTRY.register(backend.name, backend)


def names() -> tuple[str, ...]:
    """The registered backend names."""
    return _REGISTRY.names()


def get(backend: str | Backend) -> Backend:
    """The backend of a name (a backend object is returned as it is).

    Raises:
      ValueError: an unknown name; the message lists the valid ones.
    """
    if isinstance(backend, str):
        return _REGISTRY.get(backend)
    if isinstance(backend, Backend):
        return backend
    raise ValueError(f"a backend is a name ({', '.join(names())}) or a Backend object, "
                     f"got {backend!r}")


def state_types() -> tuple[type, ...]:
    """The state classes of every registered backend."""
    return tuple(b.state_type for b in _REGISTRY)


def is_state(x) -> bool:
    """Whether ``x`` is a state of some registered backend."""
    return isinstance(x, state_types())


def of_state(state) -> Backend:
    """The backend whose states look like ``state``."""
    for b in _REGISTRY:
        if isinstance(state, b.state_type):
            return b
    raise ValueError(f"{type(state).__name__} is not the state of any backend "
                     f"({', '.join(names())})")


# The built-in network types register themselves on import.
from qtnet.tn.backends import mps, dense, tree, tn  # noqa: E402, F401, I001  (mps first: listed first)

__all__ = ["Backend", "State", "get", "is_state", "names", "of_state", "register",
           "state_types"]
