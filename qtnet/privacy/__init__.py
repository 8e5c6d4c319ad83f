"""Privacy, measured: DP-SGD (per-example clipping + Gaussian noise), its epsilon(delta) from
an RDP accountant, and a gradient-inversion attack on a shared gradient.

The names are loaded on first use: ``qtnet.privacy.config`` (read by every federated config)
must not import ``dp_accounting`` and the trainer, which each federated client process would
otherwise pay for in every round.
"""

import importlib

_HOMES = {
    "dp_sgd_event": "accountant", "epsilon": "accountant", "noise_for_epsilon": "accountant",
    "Reconstruction": "attack", "invert_gradient": "attack", "reconstruction_error": "attack",
    "sample_gradient": "attack", "PrivacyConfig": "config", "dp_optimizer": "dpsgd",
    "per_example_cross_entropy": "dpsgd", "private_gradient": "dpsgd",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'qtnet.privacy' has no attribute {name!r}")
    return getattr(importlib.import_module(f"qtnet.privacy.{_HOMES[name]}"), name)
