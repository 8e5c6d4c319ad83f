"""Small pieces several models share: a value held outside the parameter pytree, and the
checks that a model can run on the configured backend."""

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


def check_backend_in(model_type: str, backend: BackendConfig, supported: tuple[str, ...]) -> None:
    """Refuse a backend the model cannot run on (e.g. a layer loop over a lazy ``tn`` network,
    or a protocol the contraction meter cannot price on a ``tree``)."""
    if backend.type not in supported:
        raise ConfigError(f"backend.type: model.type {model_type} runs on "
                          f"{' or '.join(supported)}, not {backend.type!r}")
