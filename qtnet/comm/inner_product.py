"""The classical protocol for linear models: inner products of unit vectors from shared sketches.

The paper's argument that linear classification has no exponential quantum advantage (Gilboa
et al., NeurIPS 2024; ``../shared/docs/PAPER.md``): the inner product of two unit vectors can
be estimated classically with O(1/eps^2) bits, independent of N. The protocol metered here is
the random-hyperplane sketch (Charikar, STOC 2002; Goemans & Williamson 1995): with shared
randomness, Alice and Bob draw k Gaussian vectors g_1..g_k in R^N; Alice sends the k signs
sign<g_i, x> (k bits); for each class c Bob compares them with sign<g_i, w_c>. A sign agrees
with probability 1 - theta_c / pi (cos theta_c = <w_c, x>), so the fraction of agreements
estimates theta_c / pi, and <w_c, x> = cos(pi p) moves by at most pi per unit of p: p to
+-eps/pi gives the score to +-eps. Hoeffding with a union bound over the K classes:

    k = ceil(pi^2 ln(2K / delta) / (2 eps^2))  bits, Alice -> Bob, for all K scores at once.

The quantum protocol (:func:`qtnet.parties.linear_protocol`) sends K * m copies of n = log2 N
qubits, m = ceil(2 ln(2K / delta) / eps^2) (a Hadamard test per class, delta split over the
classes): n K m qubits. Their ratio is 4 n K / pi^2 = O(log N): the same order, no
exponential gap.
"""

from __future__ import annotations

import math

from qtnet.comm.estimators import Estimator
from qtnet.parties.protocol import BlockEncoding, HadamardProduct, Protocol


def sketch_bits(epsilon: float, delta: float, classes: int = 1) -> int:
    """Sign bits Alice sends so that Bob has all ``classes`` inner products <w_c, x> to
    +-``epsilon`` with probability >= 1 - ``delta`` (independent of the dimension N)."""
    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}")
    return math.ceil(math.pi**2 * math.log(2.0 * classes / delta) / (2.0 * epsilon**2))


def is_linear(protocol: Protocol) -> bool:
    """Whether the protocol's output is one inner product of a vector held by the first
    party with one held by the second: a reference readout, no block encoding or Hadamard
    product, and a single hand-off (each side's unitaries fold into its own vector)."""
    return (protocol.steps[-1].kind == "reference" and len(protocol.handoffs()) == 1
            and not any(isinstance(s, BlockEncoding | HadamardProduct)
                        for s in protocol.steps))


def inner_product_protocol(protocol: Protocol, estimator: Estimator,
                           classes: int = 1) -> dict | None:
    """The classical sketch protocol for a linear ``protocol`` (``None`` if it is not
    linear): ``{"bits", "sender", "receiver", "classes", "source"}``; ``estimator.delta`` is
    the failure probability of all ``classes`` scores together."""
    if not is_linear(protocol):
        return None
    h = protocol.handoffs()[0]
    return {"bits": sketch_bits(estimator.epsilon, estimator.delta, classes),
            "sender": h.sender, "receiver": h.receiver, "classes": classes,
            "source": "random-hyperplane sketch (Charikar 2002): "
                      "ceil(pi^2 ln(2K/delta) / (2 eps^2)) sign bits, independent of N"}
