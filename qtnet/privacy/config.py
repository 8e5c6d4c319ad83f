"""The ``privacy`` config section: DP-SGD's clipping norm and its noise, given directly or as
the (epsilon, delta) budget the accountant calibrates it to."""

from __future__ import annotations

import dataclasses

from qtnet.config import ConfigError, field


@dataclasses.dataclass(frozen=True)
class PrivacyConfig:
    enabled: bool = field(False, help="train with DP-SGD (per-example clipping + Gaussian noise)")
    clip_norm: float = field(1.0, help="L2 norm each per-example gradient is clipped to, > 0")
    target_epsilon: float | None = field(
        None, help="the epsilon(delta) to spend over the whole run; the noise is calibrated to "
                   "it (give this or noise_multiplier)")
    noise_multiplier: float | None = field(
        None, help="noise std / clip_norm, given directly (give this or target_epsilon)")
    delta: float = field(1e-5, help="the delta of (epsilon, delta)-DP, in (0, 1)")

    def validate(self) -> None:
        if not 0 < self.delta < 1:
            raise ConfigError(f"privacy.delta: expected a value in (0, 1), got {self.delta!r}")
        if not self.clip_norm > 0:
            raise ConfigError(f"privacy.clip_norm: expected a value > 0, got {self.clip_norm!r}")
        if self.target_epsilon is not None and not self.target_epsilon > 0:
            raise ConfigError(f"privacy.target_epsilon: expected a value > 0, got "
                              f"{self.target_epsilon!r}")
        if self.noise_multiplier is not None and not self.noise_multiplier > 0:
            raise ConfigError(f"privacy.noise_multiplier: expected a value > 0, got "
                              f"{self.noise_multiplier!r}")
        if self.enabled and (self.target_epsilon is None) == (self.noise_multiplier is None):
            raise ConfigError("privacy: with enabled: true give exactly one of target_epsilon "
                              f"and noise_multiplier (got target_epsilon="
                              f"{self.target_epsilon!r}, noise_multiplier="
                              f"{self.noise_multiplier!r})")
