"""What every truncating state pytree keeps in log form: its norm and its kept weight."""

from __future__ import annotations

import jax
import jax.numpy as jnp


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
