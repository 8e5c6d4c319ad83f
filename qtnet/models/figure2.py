"""The paper's Figure 2 model as a classifier: |psi> = A_L B_L ... A_1 B_1 |x>, read out by
measuring a class register.

Alice holds the data x (amplitude-encoded, padded to a power of two) and the unitaries A_l;
Bob holds the B_l. Each unitary is a brickwork of ``depth`` layers on all n qubits. Class c is
the outcome c of measuring the first ceil(log2 C) qubits; the logits are log p(c), so the
softmax is p(c) renormalised over the C valid outcomes (post-selection on a valid class).

The model is defined once, as :func:`qtnet.parties.figure2_protocol`: the forward pass runs
that protocol's steps (its L identical layer pairs in one ``lax.scan``), with the protocol's
parameters ``A_l = alice[l - 1]``, ``B_l = bob[l - 1]`` (:func:`qtnet.parties.figure2_params`).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from qtnet.parties.library import figure2_layer, figure2_params, figure2_protocol
from qtnet.parties.protocol import Protocol
from qtnet.tn import backends
from qtnet.tn.ansatz import ANSATZE, ansatz_param_shape, check_ansatz


def register_size(n_features: int, n_classes: int) -> int:
    """Qubits for the amplitude encoding, at least enough for the class register and 2."""
    return max(2, math.ceil(math.log2(n_features)), math.ceil(math.log2(n_classes)))


class Figure2Classifier(nnx.Module):
    """Figure 2 circuit classifier, simulated on the MPS (or dense) backend.

    Args:
      n_features: length of a data vector (zero-padded to ``2**n_qubits``).
      n_classes: number of classes (read from the first ``ceil(log2 n_classes)`` qubits).
      layers: L, the number of (A_l, B_l) pairs.
      depth: brickwork layers per unitary.
      ansatz: ``ry_cz`` (RY on every qubit, then CZ bricks; real amplitudes) or ``su4``
        (a general two-qubit gate per brick; needs a complex dtype).
      backend: a backend name, ``mps`` or ``dense`` (:func:`qtnet.tn.backends.names`).
      max_bond: MPS bond cap; ``None`` is exact for the register (``2**(n//2)``).
    """

    def __init__(self, n_features: int, n_classes: int, *, layers: int, depth: int,
                 ansatz: str = "ry_cz", backend: str = "mps", max_bond: int | None = None,
                 cutoff: float = 0.0, dtype="float32", init_scale: float = 0.1,
                 rngs: nnx.Rngs):
        check_ansatz(ansatz)
        backends.get(backend)                     # an unknown name fails here, listing names
        if n_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
        self.n_features, self.n_classes = n_features, n_classes
        self.n_qubits = register_size(n_features, n_classes)
        self.class_qubits = max(1, math.ceil(math.log2(n_classes)))
        self.ansatz, self.backend, self.cutoff = ansatz, backend, cutoff
        self.dtype = jnp.dtype(dtype)
        self.max_bond = max_bond or 2 ** (self.n_qubits // 2)
        real = jnp.finfo(self.dtype).dtype
        shape = (layers, *ansatz_param_shape(ansatz, depth, self.n_qubits))
        self.layers, self.depth = layers, depth
        self.alice = nnx.Param(init_scale * jax.random.normal(rngs.params(), shape, real))
        self.bob = nnx.Param(init_scale * jax.random.normal(rngs.params(), shape, real))

    def protocol(self) -> Protocol:
        """The model as a two-party protocol: what the forward pass runs and the meter counts."""
        return figure2_protocol(self.n_qubits, self.layers, depth=self.depth,
                                ansatz=self.ansatz, class_qubits=self.class_qubits)

    def protocol_params(self) -> dict:
        """The protocol's parameters ``{"A1": ..., "B1": ..., ...}`` (current values)."""
        return figure2_params(self.alice[...], self.bob[...])

    def run_options(self) -> dict:
        """Keyword options of :meth:`Protocol.run` that simulate this model."""
        return dict(backend=self.backend, max_bond=self.max_bond, cutoff=self.cutoff,
                    dtype=self.dtype)

    def encode(self, x):
        """Alice's encode step on one sample ``x [n_features]``: the unit state |x>."""
        return self.protocol().apply_step(0, None, {}, {"x": x.astype(self.dtype)},
                                          **self.run_options())

    def evolve(self, state):
        """B_1, A_1, ..., B_L, A_L in turn: one ``lax.scan`` over the L layer pairs."""
        protocol, kw = self.protocol(), self.run_options()

        def layer(s, angles):
            a, b = angles
            return figure2_layer(protocol, s, a, b, **kw), None

        state, _ = jax.lax.scan(layer, state, (self.alice[...], self.bob[...]))
        return state

    def class_probabilities(self, x):
        """``p(c)`` for one sample, renormalised over the valid classes, and the fidelity."""
        protocol = self.protocol()
        state = self.evolve(self.encode(x))
        probs = protocol.apply_step(len(protocol.steps) - 1, state, {}, {},
                                    **self.run_options())[: self.n_classes]
        return probs / jnp.sum(probs), backends.get(self.backend).fidelity(state)

    def __call__(self, x, key=None) -> dict:
        """``x [batch, n_features]`` -> ``{"logits": [batch, C], "fidelity": [batch]}``.

        Deterministic: ``key`` (the trainer's per-step key) is accepted and not used."""
        probs, fidelity = jax.vmap(self.class_probabilities)(x)
        tiny = np.finfo(np.dtype(probs.dtype)).tiny
        return {"logits": jnp.log(jnp.maximum(probs, tiny)), "fidelity": fidelity}


# Registration: the Figure 2 model's config section and builder (model.type: figure2).
import dataclasses  # noqa: E402

from qtnet.config import BackendConfig, field  # noqa: E402
from qtnet.models.common import check_ansatz_dtype, check_backend_in  # noqa: E402
from qtnet.models.registry import register_model  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Figure2Config:
    """``model`` section of the Figure 2 circuit classifier (``model.type: figure2``); it runs
    on ``backend`` (type, max_bond, cutoff, dtype)."""

    type: str = field("figure2", help="model name")
    layers: int = field(2, min=1, max=64, help="L: the number of (A_l, B_l) pairs")
    depth: int = field(2, min=1, max=64, help="brickwork layers in each party's unitary")
    ansatz: str = field("ry_cz", choices=ANSATZE,
                        help="ry_cz: RY rotations + CZ bricks (real); su4: general 2-qubit bricks")
    init_scale: float = field(0.1, min=0.0, help="std of the initial angles")

    def validate_backend(self, backend: BackendConfig) -> None:
        """The party protocol is metered on mps or dense; su4 gates need a complex dtype."""
        check_backend_in("figure2", backend, ("mps", "dense"))
        check_ansatz_dtype(self.ansatz, backend)


@register_model("figure2", Figure2Config)
def build_figure2(config: Figure2Config, *, sample_shape: tuple[int, ...], n_classes: int,
                  backend: BackendConfig, rngs: nnx.Rngs) -> Figure2Classifier:
    """The circuit classifier on ``backend``, amplitude-encoding the samples' last axis."""
    return Figure2Classifier(sample_shape[-1], n_classes, layers=config.layers,
                             depth=config.depth, ansatz=config.ansatz, backend=backend.type,
                             max_bond=backend.max_bond, cutoff=backend.cutoff,
                             dtype=backend.dtype, init_scale=config.init_scale, rngs=rngs)
