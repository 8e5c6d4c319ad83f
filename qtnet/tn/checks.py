"""Input validation shared by the engine modules: clear ValueErrors, skipped under tracing."""

from __future__ import annotations

import jax
import numpy as np


def _concrete(x) -> np.ndarray | None:
    """The value of ``x`` as numpy, or None when it is a tracer (inside jit/grad/vmap)."""
    if isinstance(x, jax.core.Tracer):
        return None
    return np.asarray(x)


def require_finite(x, what: str) -> None:
    """Raise if the concrete value ``x`` holds NaN or inf (no check on tracers)."""
    v = _concrete(x)
    if v is not None and not np.all(np.isfinite(v)):
        bad = int(np.size(v) - np.count_nonzero(np.isfinite(v)))
        raise ValueError(f"{what} contains {bad} NaN/inf value(s)")


def require_nonzero(x, what: str) -> None:
    """Raise if the concrete value ``x`` has a zero entry (a zero norm)."""
    v = _concrete(x)
    if v is not None and np.any(v == 0):
        raise ValueError(f"{what} has zero norm")


def sites_for_length(length: int, phys_dim: int, n_sites: int | None) -> int:
    """Number of sites ``n`` with ``phys_dim ** n == length``, or a ValueError saying why not."""
    n = int(round(np.log(length) / np.log(phys_dim))) if length > 0 else 0
    if length < phys_dim or phys_dim**n != length:
        raise ValueError(
            f"length {length} is not a power of {phys_dim}; pad it explicitly "
            f"(qtnet.tn.pad_to_power) so that the padding is a visible choice")
    if n_sites is not None and n_sites != n:
        raise ValueError(f"length {length} = {phys_dim}^{n} does not match n_sites={n_sites}")
    return n


def check_same_sites(a, b, what: str) -> None:
    """Raise unless ``a`` and ``b`` (MPS or MPO) have the same number of sites and phys_dim."""
    if a.n_sites != b.n_sites or a.phys_dim != b.phys_dim:
        raise ValueError(f"{what}: {a!r} and {b!r} have different sites "
                         f"({a.n_sites} x {a.phys_dim} vs {b.n_sites} x {b.phys_dim})")
