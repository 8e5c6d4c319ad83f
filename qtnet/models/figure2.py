"""The paper's Figure 2 model as a classifier: |psi> = A_L B_L ... A_1 B_1 |x>, read out by
measuring a class register.

Alice holds the data x (amplitude-encoded, padded to a power of two) and the unitaries A_l;
Bob holds the B_l. Each unitary is a brickwork of ``depth`` layers on all n qubits. Class c is
the outcome c of measuring the first ceil(log2 C) qubits; the logits are log p(c), so the
softmax is p(c) renormalised over the C valid outcomes (post-selection on a valid class).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from qtnet import tn
from qtnet.parties.protocol import embed_brickwork
from qtnet.tn import dense

ANSATZE = ("ry_cz", "su4")


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
      backend: ``mps`` or ``dense``.
      max_bond: MPS bond cap; ``None`` is exact for the register (``2**(n//2)``).
    """

    def __init__(self, n_features: int, n_classes: int, *, layers: int, depth: int,
                 ansatz: str = "ry_cz", backend: str = "mps", max_bond: int | None = None,
                 cutoff: float = 0.0, dtype="float32", init_scale: float = 0.1,
                 rngs: nnx.Rngs):
        if ansatz not in ANSATZE:
            raise ValueError(f"unknown ansatz {ansatz!r}; choose one of {', '.join(ANSATZE)}")
        if n_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
        self.n_features, self.n_classes = n_features, n_classes
        self.n_qubits = register_size(n_features, n_classes)
        self.class_qubits = max(1, math.ceil(math.log2(n_classes)))
        self.ansatz, self.backend, self.cutoff = ansatz, backend, cutoff
        self.dtype = jnp.dtype(dtype)
        self.max_bond = max_bond or 2 ** (self.n_qubits // 2)
        real = jnp.finfo(self.dtype).dtype
        n = self.n_qubits
        shape = (layers, depth, n) if ansatz == "ry_cz" else (layers, depth, n // 2, 15)
        self.layers, self.depth = layers, depth
        self.alice = nnx.Param(init_scale * jax.random.normal(rngs.params(), shape, real))
        self.bob = nnx.Param(init_scale * jax.random.normal(rngs.params(), shape, real))

    def protocol(self):
        """The same model as a two-party protocol, for the communication meter."""
        from qtnet.parties.library import figure2_protocol

        return figure2_protocol(self.n_qubits, self.layers, depth=self.depth,
                                ansatz=self.ansatz, class_qubits=self.class_qubits)

    def _brickwork(self, angles):
        """``(single [depth, n, 2, 2], pairs [depth, n//2, 4, 4])`` of one party's unitary."""
        n = self.n_qubits
        return embed_brickwork(angles, self.ansatz, 0, n, n, self.dtype)

    def encode(self, x):
        """Amplitude encoding of one sample ``x [n_features]`` (the norm goes to log_norm)."""
        x = jnp.pad(x, (0, 2**self.n_qubits - x.shape[-1])).astype(self.dtype)
        if self.backend == "dense":
            return dense.from_vector(x, dtype=self.dtype)
        return tn.mps_from_dense(x, max_bond=self.max_bond, cutoff=self.cutoff, dtype=self.dtype)

    def evolve(self, state):
        """B_1, A_1, ..., B_L, A_L in turn: one ``lax.scan`` over the L layer pairs."""
        ops = dense if self.backend == "dense" else tn
        kw = {} if self.backend == "dense" else dict(max_bond=self.max_bond, cutoff=self.cutoff)

        def layer(s, angles):
            a, b = angles
            s = ops.apply_brickwork(s, *self._brickwork(b), **kw)     # Bob's B_l
            s = ops.apply_brickwork(s, *self._brickwork(a), **kw)     # Alice's A_l
            return s, None

        state, _ = jax.lax.scan(layer, state, (self.alice[...], self.bob[...]))
        return state

    def class_probabilities(self, x):
        """``p(c)`` for one sample, renormalised over the valid classes, and the fidelity."""
        state = self.evolve(self.encode(x))
        ops = dense if self.backend == "dense" else tn
        probs = ops.marginal_probabilities(state, self.class_qubits)[: self.n_classes]
        return probs / jnp.sum(probs), state.fidelity_estimate

    def __call__(self, x, key=None) -> dict:
        """``x [batch, n_features]`` -> ``{"logits": [batch, C], "fidelity": [batch]}``.

        Deterministic: ``key`` (the trainer's per-step key) is accepted and not used."""
        probs, fidelity = jax.vmap(self.class_probabilities)(x)
        tiny = np.finfo(np.dtype(probs.dtype)).tiny
        return {"logits": jnp.log(jnp.maximum(probs, tiny)), "fidelity": fidelity}


# Registration: the Figure 2 model's config section and builder (model.type: figure2).
import dataclasses  # noqa: E402

from qtnet.config import BackendConfig, ConfigError, field  # noqa: E402
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
        """su4 gates are complex: the backend's dtype must be too."""
        if self.ansatz == "su4" and not backend.dtype.startswith("complex"):
            raise ConfigError(f"model.ansatz: su4 gates are complex; set backend.dtype to "
                              f"complex64 or complex128 (got {backend.dtype})")


@register_model("figure2", Figure2Config)
def build_figure2(config: Figure2Config, *, sample_shape: tuple[int, ...], n_classes: int,
                  backend: BackendConfig, rngs: nnx.Rngs) -> Figure2Classifier:
    """The circuit classifier on ``backend``, amplitude-encoding the samples' last axis."""
    return Figure2Classifier(sample_shape[-1], n_classes, layers=config.layers,
                             depth=config.depth, ansatz=config.ansatz, backend=backend.type,
                             max_bond=backend.max_bond, cutoff=backend.cutoff,
                             dtype=backend.dtype, init_scale=config.init_scale, rngs=rngs)
