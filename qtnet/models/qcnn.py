"""The quantum convolutional neural network (``model.type: qcnn``): Cong, Choi & Lukin's
QCNN as a hierarchical pooling circuit (:mod:`qtnet.tn.ttn.pooling`) on a dataset's states.

Each level has its own gates, shared by every position (the convolution): a general
two-qubit unitary on the pairs and one across neighbouring blocks (15 angles each, the KAK
form: U3s on both qubits around exp(i(a XX + b YY + c ZZ)), closed form and cheap to
compile), and controlled rotations (|0><0| (x) U3 + |1><1| (x) U3') that pool each block's
inner edge qubit into its outer one, halving the qubits down to one; the logit is
``a <Z_0> + b``. It runs on ``backend.type``: ``tree`` (exact contraction, no statevector:
n >= 64), ``mps`` (the gate program, bonds up to ``backend.max_bond``) or ``dense``.
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
      init_scale: spread of the initial angles around zero.
    """

    def __init__(self, states, n_qubits: int, *, backend: str, init_scale: float = 0.5,
                 rngs: nnx.Rngs):
        levels = check_leaves(n_qubits)
        self.backend = backends.get(backend).name
        self.states = FixedState(states)
        keys = jax.random.split(rngs.params(), 5)
        normal = lambda k, shape: init_scale * jax.random.normal(k, shape)  # noqa: E731
        self.pair = nnx.Param(normal(keys[0], (15,)))
        self.cross = nnx.Param(normal(keys[1], (levels - 1, 15)))
        self.pool_left = nnx.Param(normal(keys[2], (levels - 1, 2, 3)))
        self.pool_right = nnx.Param(normal(keys[3], (levels - 1, 2, 3)))
        self.final = nnx.Param(normal(keys[4], (2, 3)))
        self.readout = nnx.Param(jnp.asarray([2.0, 0.0]))        # a, b of a <Z_0> + b

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
    return QCNN(moved, n, backend=backend.type, init_scale=config.init_scale, rngs=rngs)
