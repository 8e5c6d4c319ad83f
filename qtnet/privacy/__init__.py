"""Privacy, measured: DP-SGD (per-example clipping + Gaussian noise), its epsilon(delta) from
an RDP accountant, and a gradient-inversion attack on a shared gradient."""

from qtnet.privacy.accountant import dp_sgd_event, epsilon, noise_for_epsilon
from qtnet.privacy.attack import (Reconstruction, invert_gradient, reconstruction_error,
                                  sample_gradient)
from qtnet.privacy.config import PrivacyConfig
from qtnet.privacy.dpsgd import dp_optimizer, per_example_cross_entropy, private_gradient

__all__ = [
    "PrivacyConfig", "Reconstruction", "dp_optimizer", "dp_sgd_event", "epsilon",
    "invert_gradient", "noise_for_epsilon", "per_example_cross_entropy", "private_gradient",
    "reconstruction_error", "sample_gradient",
]
