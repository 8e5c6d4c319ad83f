"""The QCNN phase diagram of the cluster-Ising chain (Cong, Choi & Lukin 2019, Fig. 2):
train a QCNN on DMRG ground states of the h2 = 0 line, then read every ground state of an
(h1, h2) grid, beside the string order of the same states (the reference the paper compares
its QCNN with). ``scripts/qcnn_phase_diagram.py`` runs it at n = 16 and n = 64.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from qtnet.config import BackendConfig
from qtnet.data.cluster_ising import (ClusterIsingConfig, cluster_ising_dataset, ground_state,
                                      string_order)
from qtnet.models.qcnn import QCNNConfig, build_qcnn
from qtnet.tn import backends
from qtnet.tn.ttn.convert import mps_batch_as


@dataclasses.dataclass
class TrainedQCNN:
    model: object
    losses: list
    train_accuracy: float
    test_accuracy: float
    seconds: float
    data_seconds: float


def train_qcnn(data_config: ClusterIsingConfig, *, backend: str = "tree",
               max_bond: int | None = None, steps: int = 150, learning_rate: float = 0.05,
               seed: int = 0) -> TrainedQCNN:
    """The QCNN trained full-batch (Adam) on the h2 = 0 ground states of ``data_config``."""
    start = time.perf_counter()
    data = cluster_ising_dataset(data_config)
    data_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model = build_qcnn(QCNNConfig(), sample_shape=(1,), n_classes=2,
                       backend=BackendConfig(type=backend, max_bond=max_bond,
                                             dtype="complex128"),
                       rngs=nnx.Rngs(params=seed), data=data)
    graphdef, params = nnx.split(model)
    tx = optax.adam(learning_rate)
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)

    def loss_fn(p):
        logits = nnx.merge(graphdef, p)(x)["logits"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def step(p, opt_state):
        loss, grads = jax.value_and_grad(loss_fn)(p)
        updates, opt_state = tx.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, loss

    opt_state, losses = tx.init(params), []
    for _ in range(steps):
        params, opt_state, loss = step(params, opt_state)
        losses.append(float(loss))
    model = nnx.merge(graphdef, params)

    def accuracy(xs, ys):
        return float(np.mean(np.argmax(np.asarray(model(jnp.asarray(xs))["logits"]), -1) == ys))

    return TrainedQCNN(model, losses, accuracy(data.x_train, data.y_train),
                       accuracy(data.x_test, data.y_test), time.perf_counter() - start,
                       data_seconds)


def staggered_order(state) -> float:
    """-<X_a X_b> at odd distance b - a (about half the chain): positive in the
    antiferromagnet, -<X>^2 < 0 in the paramagnet, about 0 in the SPT phase."""
    n = state.n_sites
    a, b = n // 4, n // 4 + n // 2 + 1
    return -float(backends.of_state(state).expectation_pauli(state, f"X{a} X{b}"))


def grid_states(n_qubits: int, h1s, h2s, *, bond: int):
    """DMRG ground states of every (h1, h2) of the grid (an MPS batch, h2-major) and their
    string and staggered orders."""
    states, sop, afm = [], [], []
    for h2 in h2s:
        for h1 in h1s:
            state, _ = ground_state(n_qubits, float(h1), float(h2), bond=bond)
            states.append(state)
            sop.append(string_order(state))
            afm.append(staggered_order(state))
    shape = (len(h2s), len(h1s))
    batch = jax.tree.map(lambda *a: jnp.stack(a), *states)
    return batch, np.reshape(sop, shape), np.reshape(afm, shape)


def spt_probability(model, states, *, backend: str, max_bond: int | None = None):
    """``(P(SPT), fidelity)`` of every state of an MPS batch read on ``backend``:
    sigmoid(a <Z_0> + b), and the kept weight of the state's conversion to the backend."""
    moved = mps_batch_as(backend, states, max_bond=max_bond, dtype=jnp.complex128)
    reader = build_like(model, backend)
    z = jax.jit(reader.expectation)(moved)
    a, b = model.readout[...]
    fidelity = jax.vmap(backends.get(backend).fidelity)(moved)
    return np.asarray(jax.nn.sigmoid(a * z + b)), np.asarray(fidelity)


def build_like(model, backend: str):
    """A copy of ``model`` whose circuit runs on another backend."""
    other = nnx.clone(model)
    other.backend = backends.get(backend).name
    return other


def boundary_along_h1(values, h1s, threshold: float) -> float:
    """The first h1 where ``values`` (along one h2 row) drops below ``threshold`` (linear
    interpolation); NaN if it never crosses from above."""
    values = np.asarray(values)
    for i in range(len(values) - 1):
        if values[i] >= threshold > values[i + 1]:
            frac = (values[i] - threshold) / (values[i] - values[i + 1])
            return float(h1s[i] + frac * (h1s[i + 1] - h1s[i]))
    return float("nan")
