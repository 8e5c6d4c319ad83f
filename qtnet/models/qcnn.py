"""The quantum convolutional neural network (``model.type: qcnn``): Cong, Choi & Lukin's
QCNN as a hierarchical pooling circuit (:mod:`qtnet.tn.ttn.pooling`) on a dataset's states.

Each level has its own gates, shared by every position (the convolution): a general
two-qubit unitary on the pairs and one across neighbouring blocks (15 angles each, the KAK
form: U3s on both qubits around exp(i(a XX + b YY + c ZZ)), closed form and cheap to
compile), and controlled rotations (|0><0| (x) U3 + |1><1| (x) U3') that pool each block's
inner edge qubit into its outer one, halving the qubits down to one; the logit is
``a <Z_0> + b``. It runs on ``backend.type``: ``tree`` (exact contraction, no statevector:
n >= 64), ``mps`` (the gate program, bonds up to ``backend.max_bond``) or ``dense``.
``model.init: string_order`` starts it near a circuit of the family that reads the SPT string
order (:func:`string_order_angles`) instead of at random angles.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from qtnet.comm.qcnn_ledger import qcnn_ledger
from qtnet.config import BackendConfig, ConfigError, field
from qtnet.models.common import FixedState, check_backend_in
from qtnet.models.registry import register_model
from qtnet.tn import backends
from qtnet.tn.dense import MAX_DENSE_SITES, DenseState
from qtnet.tn.gates import FIXED_1Q, u3
from qtnet.tn.ttn.convert import mps_batch_as
from qtnet.tn.ttn.network import check_leaves
from qtnet.tn.ttn.pooling import PoolingCircuit, pooling_expectation


_PAULI_PAIRS = np.stack([np.kron(FIXED_1Q[p], FIXED_1Q[p]) for p in "XYZ"])


def _u3(angles):
    return u3(*jnp.moveaxis(angles, -1, 0))


def two_qubit_unitary(params):
    """``[..., 15]`` angles -> ``(A' (x) B') exp(i (a XX + b YY + c ZZ)) (A (x) B)``, every
    two-qubit unitary up to a phase (the KAK decomposition); A, B, A', B' are U3 gates."""
    before = jnp.einsum("...ab,...cd->...acbd", _u3(params[..., 0:3]), _u3(params[..., 3:6]))
    after = jnp.einsum("...ab,...cd->...acbd", _u3(params[..., 9:12]), _u3(params[..., 12:15]))
    shape = params.shape[:-1] + (4, 4)
    core = jnp.eye(4, dtype=before.dtype)
    for k in range(3):                       # XX, YY, ZZ commute: one factor each
        angle = params[..., 6 + k, None, None]
        core = core @ (jnp.cos(angle) * jnp.eye(4) + 1j * jnp.sin(angle) * _PAULI_PAIRS[k])
    return after.reshape(shape) @ core @ before.reshape(shape)


COMPLEX = {"float32": "complex64", "float64": "complex128"}


QUARTER = np.pi / 4


def string_order_angles(levels: int) -> dict[str, np.ndarray]:
    """The angles of a Clifford circuit of this family whose read-out ``C^dag Z_0 C`` is the
    SPT string order ``Z_0 X_1 X_3 ... X_(n/2 - 1) Z_(n/2)`` (``n = 2^levels``): a product of
    the cluster terms ``Z_(i-1) X_i Z_(i+1)``, i = 1, 3, ..., n/2 - 1, so about 1 in the SPT
    phase and about 0 in the paramagnet and the antiferromagnet.

    Levels 1 .. L-2 decimate the cluster state onto their survivors: ``cross`` =
    (1 x U3(pi/2, 0, 0)) exp(i pi/4 (YY + ZZ)) on the two dropped qubits and a CZ from the
    right one onto its survivor (``pool_right``; ``pool_left`` is the identity); the last
    level reads the coarse chain's term Z_0 X_(n/2-1) Z_(n/2) (``cross`` = (H x 1) CZ,
    ``pool_left`` a CNOT onto site 0); above 4 qubits the decimation flips the string's sign,
    which ``final`` (X on site 0) flips back. Found by ``scripts/qcnn_clifford_search.py
    --per-level``; tests/models/test_qcnn.py holds it to the string order on dense states.
    """
    if levels < 2:
        raise ValueError(f"a string-order read-out needs at least 4 qubits (2 levels); "
                         f"got {2 ** levels}")
    q = QUARTER
    decimate = [0, 0, 0, 0, 0, 0, 0, q, q, 0, 0, 0, 2 * q, 0, 0]
    read = [0, 0, 0, 0, 0, 0, 0, 0, q, 2 * q, 0, -2 * q, 0, 0, 2 * q]       # (H x 1) CZ
    # controlled rotations: [U3 angles if the control is 0, if it is 1]
    identity = [[0, 0, 0], [0, 0, 0]]
    cz = [[0, 0, 0], [0, 0, 4 * q]]                   # U3(0, 0, pi) = Z
    cnot = [[0, 0, 0], [4 * q, 0, 4 * q]]             # U3(pi, 0, pi) = X
    lower = levels - 2
    flip = [[4 * q, 0, 4 * q]] * 2 if lower else identity
    return {"pair": np.zeros(15),
            "cross": np.array([decimate] * lower + [read]),
            "pool_left": np.array([identity] * lower + [cnot]),
            "pool_right": np.array([cz] * lower + [identity]),
            "final": np.array(flip, float)}


INITS = ("random", "string_order")


def controlled_rotation(angles):
    """``[..., 2, 3]`` U3 angles -> ``|0><0| (x) U3(angles[0]) + |1><1| (x) U3(angles[1])``."""
    off, on = _u3(angles[..., 0, :]), _u3(angles[..., 1, :])
    zero = jnp.zeros_like(off)
    top = jnp.concatenate([off, zero], -1)
    return jnp.concatenate([top, jnp.concatenate([zero, on], -1)], -2)


class QCNN(nnx.Module):
    """``x [batch, 1]`` (indices into ``states``) -> logits ``[batch, 2]`` (1 = the phase).

    Args:
      states: the dataset's states on ``backend`` (a stacked batch, held fixed).
      n_qubits: their sites (a power of two >= 2).
      backend: the backend the states live on.
      init: ``random`` (angles around zero) or ``string_order`` (around
        :func:`string_order_angles`, a circuit reading the SPT string order, with the
        read-out's threshold at 1/2).
      init_scale: spread of the initial angles around those.
    """

    def __init__(self, states, n_qubits: int, *, backend: str, init: str = "random",
                 init_scale: float = 0.5, rngs: nnx.Rngs):
        levels = check_leaves(n_qubits)
        if init not in INITS:
            raise ValueError(f"unknown QCNN init {init!r}; valid: {', '.join(INITS)}")
        self.backend = backends.get(backend).name
        self.states = FixedState(states)
        shapes = {"pair": (15,), "cross": (levels - 1, 15), "pool_left": (levels - 1, 2, 3),
                  "pool_right": (levels - 1, 2, 3), "final": (2, 3)}
        centre = (string_order_angles(levels) if init == "string_order"
                  else {name: np.zeros(shape) for name, shape in shapes.items()})
        keys = jax.random.split(rngs.params(), len(shapes))
        for key, (name, shape) in zip(keys, shapes.items()):
            angles = jnp.asarray(centre[name]) + init_scale * jax.random.normal(key, shape)
            setattr(self, name, nnx.Param(angles))
        # a, b of a <Z_0> + b; the string-order circuit's <Z_0> is the string order itself
        self.readout = nnx.Param(jnp.asarray([2.0, 0.0] if init == "random" else [4.0, -2.0]))

    def circuit(self) -> PoolingCircuit:
        return PoolingCircuit(two_qubit_unitary(self.pair[...]),
                              two_qubit_unitary(self.cross[...]),
                              controlled_rotation(self.pool_left[...]),
                              controlled_rotation(self.pool_right[...]),
                              controlled_rotation(self.final[...]))

    def expectation(self, states) -> jax.Array:
        """``<Z_0>`` after the circuit for each state of a batch."""
        backend, circuit = backends.get(self.backend), self.circuit()
        return jax.vmap(lambda s: pooling_expectation(backend, s, circuit))(states)

    def ledger(self, batch: int, bits: int = 32) -> tuple[list, dict]:
        """The forward pass's contractions over ``batch`` states, and each state's hand-off to
        the classifier (:mod:`qtnet.comm.qcnn_ledger`, priced on the model's backend)."""
        return qcnn_ledger(self.states.value, self.circuit(), backend=self.backend,
                           batch=batch, bits=bits)

    def __call__(self, x, key=None) -> dict:
        """Logits and the fidelity of the states the circuit read (deterministic)."""
        states = jax.tree.map(lambda a: a[x[:, 0]], self.states.value)
        a, b = self.readout[0], self.readout[1]
        t = a * self.expectation(states) + b
        fidelity = jax.vmap(backends.get(self.backend).fidelity)(states)
        return {"logits": jnp.stack([-t / 2, t / 2], -1), "fidelity": fidelity}


@dataclasses.dataclass(frozen=True)
class QCNNConfig:
    """``model`` section of the QCNN (``model.type: qcnn``); it needs a dataset of states
    (``data.type: cluster_ising``) and runs on ``backend`` (``tree``, ``mps``, ``dense``) in
    the complex dtype of ``backend.dtype``'s precision."""

    type: str = field("qcnn", help="model name")
    init: str = field("random", choices=INITS,
                      help="initial circuit: random angles around zero, or string_order: "
                           "around a circuit whose read-out is the SPT string order")
    init_scale: float = field(0.5, min=0.0, help="spread of the initial angles")

    def validate_backend(self, backend: BackendConfig) -> None:
        """Convolution and pooling layers run on tree, mps or dense."""
        check_backend_in("qcnn", backend, ("tree", "mps", "dense"))


@register_model("qcnn", QCNNConfig)
def build_qcnn(config: QCNNConfig, *, sample_shape: tuple[int, ...], n_classes: int,
               backend: BackendConfig, rngs: nnx.Rngs, data=None) -> QCNN:
    """The QCNN on the dataset's states (``data.state``), moved to ``backend`` once."""
    states = getattr(data, "state", None)
    if states is None or not hasattr(states, "n_sites"):
        raise ConfigError("model.type: qcnn reads quantum states from the dataset; use one "
                          "that provides them (data.type: cluster_ising)")
    if tuple(sample_shape) != (1,) or n_classes != 2:
        raise ConfigError(f"model.type: qcnn classifies states into 2 classes from indices "
                          f"[1]; the data has samples {tuple(sample_shape)} and {n_classes} "
                          f"classes")
    n = states.n_sites
    target = backends.get(backend.type)
    if target.state_type is DenseState and n > MAX_DENSE_SITES:
        raise ConfigError(f"backend.type: {backend.type} holds each state as a statevector "
                          f"(up to {MAX_DENSE_SITES} qubits); the data's states have {n} "
                          f"(use backend.type: tree)")
    try:
        check_leaves(n)
    except ValueError as err:
        raise ConfigError(f"model.type: qcnn pools the chain in halves: {err}") from None
    dtype = COMPLEX.get(backend.dtype, backend.dtype)           # the gates are complex
    moved = mps_batch_as(target, states, max_bond=backend.max_bond, dtype=dtype)
    return QCNN(moved, n, backend=backend.type, init=config.init,
                init_scale=config.init_scale, rngs=rngs)
