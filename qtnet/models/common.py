"""Small pieces several models share: a value held outside the parameter pytree, and the
check that an ansatz's gates fit the backend's dtype."""

from __future__ import annotations

import dataclasses

from qtnet.config import BackendConfig, ConfigError


@dataclasses.dataclass(frozen=True, eq=False)
class FixedState:
    """A value a model reads but never trains (Alice's Φ, a frozen extractor): held outside
    the parameter pytree, so ``jit`` embeds it in the step as a constant and checkpoints stay
    small."""

    value: object


def check_ansatz_dtype(ansatz: str, backend: BackendConfig) -> None:
    """su4 gates are complex: the backend's dtype must be too."""
    if ansatz == "su4" and not backend.dtype.startswith("complex"):
        raise ConfigError(f"model.ansatz: su4 gates are complex; set backend.dtype to "
                          f"complex64 or complex128 (got {backend.dtype})")
