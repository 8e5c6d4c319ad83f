"""The privacy budget of DP-SGD: epsilon(delta) from Google's ``dp_accounting`` RDP accountant.

One DP-SGD step on a batch drawn with rate ``q = batch / n`` from n examples is a
Poisson-subsampled Gaussian mechanism of noise multiplier sigma; T steps compose. The
accountant assumes Poisson subsampling (each example joins a batch independently with
probability q), the standard analysis of DP-SGD (Abadi et al. 2016; Mironov et al. 2019);
qtnet's batches are shuffled fixed-size ones, the usual approximation of it.
"""

from __future__ import annotations

import dp_accounting
from dp_accounting import rdp

from qtnet.config import ConfigError

# Orders of the Renyi divergence the accountant tries (Opacus's grid; the finer fractional
# orders below 1.75 do not converge in dp_accounting at small sigma and are never the best).
RDP_ORDERS = (1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5, *range(5, 64), 128, 256, 512)


def dp_sgd_event(noise_multiplier: float, sampling_rate: float,
                 steps: int) -> dp_accounting.DpEvent:
    """``steps`` compositions of the Poisson-subsampled Gaussian mechanism."""
    gaussian = dp_accounting.GaussianDpEvent(noise_multiplier)
    step = (gaussian if sampling_rate >= 1.0
            else dp_accounting.PoissonSampledDpEvent(sampling_rate, gaussian))
    return dp_accounting.SelfComposedDpEvent(step, steps)


def _check(sampling_rate: float, steps: int, delta: float) -> None:
    if not 0 < sampling_rate <= 1:
        raise ConfigError(f"sampling rate (batch / examples) must be in (0, 1], got "
                          f"{sampling_rate!r}: is the batch larger than a client's data?")
    if steps < 0:
        raise ConfigError(f"steps must be >= 0, got {steps!r}")
    if not 0 < delta < 1:
        raise ConfigError(f"delta must be in (0, 1), got {delta!r}")


def epsilon(noise_multiplier: float, sampling_rate: float, steps: int, delta: float) -> float:
    """The epsilon of ``steps`` DP-SGD steps at ``delta`` (RDP accountant)."""
    _check(sampling_rate, steps, delta)
    if steps == 0:
        return 0.0
    accountant = rdp.RdpAccountant(list(RDP_ORDERS))
    accountant.compose(dp_sgd_event(noise_multiplier, sampling_rate, steps))
    return float(accountant.get_epsilon(delta))


def noise_for_epsilon(target_epsilon: float, sampling_rate: float, steps: int,
                      delta: float) -> float:
    """The smallest noise multiplier whose ``steps`` steps spend at most ``target_epsilon``."""
    _check(sampling_rate, steps, delta)
    if not target_epsilon > 0:
        raise ConfigError(f"target epsilon must be > 0, got {target_epsilon!r}")
    if steps == 0:
        raise ConfigError("no training steps: there is nothing to calibrate the noise to")
    return float(dp_accounting.calibrate_dp_mechanism(
        lambda: rdp.RdpAccountant(list(RDP_ORDERS)),
        lambda sigma: dp_sgd_event(sigma, sampling_rate, steps), target_epsilon, delta,
        dp_accounting.LowerEndpointAndGuess(1e-3, 1.0), tol=1e-4))
