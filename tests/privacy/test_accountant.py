"""The RDP accountant against the Gaussian mechanism's closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from qtnet.config import ConfigError
from qtnet.privacy import epsilon, noise_for_epsilon
from qtnet.privacy.accountant import RDP_ORDERS


def _rdp_epsilon_by_hand(sigma: float, steps: int, delta: float) -> float:
    """T Gaussian mechanisms (sensitivity 1, no subsampling) have Renyi DP of order a equal to
    T a / (2 sigma^2) (Mironov 2017, Prop. 7); converted to (eps, delta) by Canonne, Kamath &
    Steinke 2020 (Prop. 12): eps = rdp + log((a-1)/a) - (log delta + log a) / (a-1)."""
    return min(steps * a / (2 * sigma**2) + math.log((a - 1) / a)
               - (math.log(delta) + math.log(a)) / (a - 1) for a in RDP_ORDERS)


def _exact_gaussian_epsilon(sigma: float, delta: float) -> float:
    """The exact epsilon of one Gaussian mechanism (Balle & Wang 2018, Thm. 8):
    delta = Phi(1/(2s) - eps s) - e^eps Phi(-1/(2s) - eps s)."""
    def gap(eps):
        return (stats.norm.cdf(0.5 / sigma - eps * sigma)
                - math.exp(eps) * stats.norm.cdf(-0.5 / sigma - eps * sigma) - delta)
    return optimize.brentq(gap, 1e-9, 100.0)


@pytest.mark.parametrize("sigma, steps, delta", [(2.0, 1, 1e-5), (5.0, 10, 1e-6),
                                                 (1.0, 3, 1e-3)])
def test_unsampled_gaussian_matches_the_hand_computed_rdp(sigma, steps, delta):
    assert epsilon(sigma, 1.0, steps, delta) == pytest.approx(
        _rdp_epsilon_by_hand(sigma, steps, delta), rel=1e-9)


def test_rdp_is_an_upper_bound_close_to_the_exact_gaussian():
    exact = _exact_gaussian_epsilon(2.0, 1e-5)          # ~1.9 for sigma = 2
    got = epsilon(2.0, 1.0, 1, 1e-5)
    assert exact < got < 1.25 * exact


def test_subsampling_amplifies_and_steps_compose():
    full = epsilon(1.0, 1.0, 10, 1e-5)
    sampled = epsilon(1.0, 0.01, 10, 1e-5)
    assert sampled < 0.1 * full
    eps = [epsilon(1.0, 0.05, t, 1e-5) for t in (10, 100, 1000)]
    assert eps[0] < eps[1] < eps[2]


def test_calibrated_noise_spends_the_target():
    sigma = noise_for_epsilon(8.0, 0.05, 200, 1e-5)
    assert epsilon(sigma, 0.05, 200, 1e-5) == pytest.approx(8.0, rel=1e-3)
    assert epsilon(0.98 * sigma, 0.05, 200, 1e-5) > 8.0


@pytest.mark.parametrize("args, message", [
    ((1.0, 1.5, 10, 1e-5), "sampling rate"), ((1.0, 0.1, 10, 1.0), "delta"),
    ((1.0, 0.1, 10, 0.0), "delta"), ((1.0, 0.0, 10, 1e-5), "sampling rate")])
def test_out_of_range_is_a_config_error(args, message):
    with pytest.raises(ConfigError, match=message):
        epsilon(*args)


def test_calibration_rejects_a_bad_target():
    with pytest.raises(ConfigError, match="target epsilon must be > 0"):
        noise_for_epsilon(0.0, 0.1, 10, 1e-5)
    assert np.isfinite(noise_for_epsilon(50.0, 0.1, 10, 1e-5))
