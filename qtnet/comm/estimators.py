"""How many copies of a state an estimate needs: the cost model behind the communication meter.

Every figure is a copy count m; each copy of the protocol's state crosses every hand-off once.
Formulas (derivations and sources in ``docs/communication.md``):

* Loss by repeated measurement (Hoeffding 1963). One copy yields an outcome in [-1, 1] whose
  mean is Q / A, where Q is the quantity wanted and A its scale: A = ||O||_1 * alpha^2 for an
  expectation <psi|O|psi> of a Pauli sum O = sum_k c_k P_k (||O||_1 = sum |c_k|, sampling terms
  by |c_k|) after block encodings of total sub-normalisation alpha, A = alpha for an overlap
  (Hadamard test). To get Q to +-eps with probability >= 1 - delta:
      m = ceil(2 ln(2 / delta) * A^2 / eps^2).
* A distribution over K outcomes (a class register of k qubits, K = 2^k) with every
  probability to +-eps at once: indicator outcomes in [0, A] (A = alpha^2) and a union bound,
      m = ceil(ln(2K / delta) * A^2 / (2 eps^2)).
* Gradients by parameter shift (Mitarai et al. 2018; Schuld et al. 2019): for gates
  exp(-i theta G / 2) with G^2 = 1 (RY here), dL/dtheta = (L(theta + pi/2) - L(theta - pi/2)) / 2.
  Each of the 2P loss estimates to +-eps with failure probability delta / (2P) (union bound)
  gives every partial derivative to +-eps:  m = 2P * ceil(2 ln(4P / delta) * A^2 / eps^2).
* Gradients by shadow tomography / threshold search (Aaronson 2018; Badescu & O'Donnell 2021),
  the paper's route: all P_l partial derivatives of unitary l from
      m_l = ceil(C * max(1, log2 P_l)^2 * n * ln(2K / delta) * (A / eps)^4)
  copies of its n-qubit state, summed over the K parameterised unitaries. The form
  O(log^2 P * log d / eps^4) with d = 2^n is Badescu & O'Donnell's threshold-search bound; the
  constant C is not known (default 1) and ln(2K / delta) is standard success boosting with a
  union bound over the unitaries, so this figure is an estimate of that form, not a bound.
"""

from __future__ import annotations

import dataclasses
import math

GRADIENTS = ("none", "parameter_shift", "shadow")


@dataclasses.dataclass(frozen=True)
class Estimator:
    """Accuracy targets and the gradient method; ``bits`` per number in the classical analogue."""

    epsilon: float = 0.01
    delta: float = 0.05
    gradient: str = "none"
    bits: int = 32
    shadow_constant: float = 1.0

    def __post_init__(self):
        if not (isinstance(self.epsilon, int | float) and self.epsilon > 0):
            raise ValueError(f"epsilon must be > 0, got {self.epsilon!r}")
        if not (isinstance(self.delta, int | float) and 0 < self.delta < 1):
            raise ValueError(f"delta must be in (0, 1), got {self.delta!r}")
        if self.gradient not in GRADIENTS:
            raise ValueError(f"gradient must be one of {', '.join(GRADIENTS)}, "
                             f"got {self.gradient!r}")
        if not (isinstance(self.bits, int) and self.bits >= 1):
            raise ValueError(f"bits must be a positive integer, got {self.bits!r}")
        if not self.shadow_constant > 0:
            raise ValueError(f"shadow_constant must be > 0, got {self.shadow_constant!r}")


def hoeffding_copies(epsilon: float, delta: float, scale: float = 1.0) -> int:
    """Copies to estimate a mean of outcomes in [-scale, scale] to +-epsilon w.p. 1 - delta."""
    return math.ceil(2.0 * math.log(2.0 / delta) * scale**2 / epsilon**2)


def distribution_copies(epsilon: float, delta: float, n_outcomes: int,
                        scale: float = 1.0) -> int:
    """Copies to estimate all ``n_outcomes`` probabilities (each in [0, scale]) to +-epsilon."""
    return math.ceil(math.log(2.0 * n_outcomes / delta) * scale**2 / (2.0 * epsilon**2))


def parameter_shift_copies(n_params: int, epsilon: float, delta: float, scale: float = 1.0,
                           n_outcomes: int | None = None) -> int:
    """2P loss estimates, each to +-epsilon with failure probability delta / (2P); a
    distribution readout (``n_outcomes``) estimates every outcome each time."""
    if n_params == 0:
        return 0
    d = delta / (2 * n_params)
    base = (hoeffding_copies(epsilon, d, scale) if n_outcomes is None
            else distribution_copies(epsilon, d, n_outcomes, scale))
    return 2 * n_params * base


def shadow_copies(params_per_unitary, n_qubits: int, epsilon: float, delta: float,
                  scale: float = 1.0, constant: float = 1.0, n_outcomes: int = 1) -> int:
    """Sum over unitaries of C log2(P_l)^2 n ln(2K/delta) (scale/epsilon)^4 (an estimate);
    a distribution readout adds its outcomes to the union bound: ln(2K n_outcomes / delta)."""
    counts = [p for p in params_per_unitary if p > 0]
    k = len(counts)
    return sum(math.ceil(constant * max(1.0, math.log2(p)) ** 2 * n_qubits
                         * math.log(2 * k * n_outcomes / delta) * (scale / epsilon) ** 4)
               for p in counts)
