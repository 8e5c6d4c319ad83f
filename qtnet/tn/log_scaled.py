"""What every state pytree keeps in log form: its norm and its kept weight (1 for a state
that is never truncated)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


class LogScaled:
    """Mixin for a state with fields ``log_norm`` and ``log_fidelity`` (logs keep a norm of
    2^-1000 or a product of 10^4 kept weights representable)."""

    @property
    def norm(self) -> jax.Array:
        return jnp.exp(self.log_norm)

    @property
    def fidelity_estimate(self) -> jax.Array:
        """Kept weight, the product of (1 - discarded weight) over every truncation behind
        this state (1 when exact)."""
        return jnp.exp(self.log_fidelity)


class Untruncated(LogScaled):
    """Mixin for a state that is never truncated (a statevector, a lazy network): kept weight
    1, no bond cap (``bond_cap`` 0; the MPS field of that name is its cap)."""

    @property
    def log_fidelity(self) -> jax.Array:
        # device_put of a host constant: jnp.zeros / jnp.exp would compile an XLA program
        # per process (~0.1-0.2 s of a small circuit's `simulate` on the dense backend).
        return jax.device_put(np.zeros((), self._real_dtype))

    @property
    def fidelity_estimate(self) -> jax.Array:
        return jax.device_put(np.ones((), self._real_dtype))

    @property
    def _real_dtype(self) -> np.dtype:
        return np.finfo(np.dtype(self.dtype)).dtype      # the dtype's real counterpart

    @property
    def bond_cap(self) -> int:
        return 0
