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
                                      half_chain_entropy, string_order)
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
    compile_seconds: float = 0.0
    step_seconds: float = 0.0


def train_qcnn(data_config: ClusterIsingConfig, *, backend: str = "tree",
               max_bond: int | None = None, steps: int = 150, learning_rate: float = 0.05,
               batch_size: int | None = None, seed: int = 0, init: str = "random",
               init_scale: float = 0.5) -> TrainedQCNN:
    """The QCNN trained (Adam) on the h2 = 0 ground states of ``data_config``: full-batch, or
    ``batch_size`` states drawn afresh each step (``fold_in(key, step)``), from the initial
    circuit ``init`` (``QCNNConfig.init``) with angle spread ``init_scale``."""
    start = time.perf_counter()
    data = cluster_ising_dataset(data_config)
    data_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model = build_qcnn(QCNNConfig(init=init, init_scale=init_scale), sample_shape=(1,), n_classes=2,
                       backend=BackendConfig(type=backend, max_bond=max_bond,
                                             dtype="complex128"),
                       rngs=nnx.Rngs(params=seed), data=data)
    graphdef, params = nnx.split(model)
    tx = optax.adam(learning_rate)
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    batch = len(x) if batch_size is None else min(batch_size, len(x))
    key = jax.random.key(seed)

    def loss_fn(p, xb, yb):
        logits = nnx.merge(graphdef, p)(xb)["logits"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def step(p, opt_state, i):
        pick = jax.random.permutation(jax.random.fold_in(key, i), len(x))[:batch]
        loss, grads = jax.value_and_grad(loss_fn)(p, x[pick], y[pick])
        updates, opt_state = tx.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, loss

    opt_state, losses = tx.init(params), []
    compile_start = time.perf_counter()
    step = step.lower(params, opt_state, 0).compile()
    compile_seconds = time.perf_counter() - compile_start
    steps_start = time.perf_counter()
    for i in range(steps):
        params, opt_state, loss = step(params, opt_state, i)
        losses.append(float(loss))
    step_seconds = (time.perf_counter() - steps_start) / max(steps, 1)
    model = nnx.merge(graphdef, params)
    logits = nnx.jit(lambda m, xs: m(xs)["logits"])

    def accuracy(xs, ys):
        return float(np.mean(np.argmax(np.asarray(logits(model, jnp.asarray(xs))), -1) == ys))

    return TrainedQCNN(model, losses, accuracy(data.x_train, data.y_train),
                       accuracy(data.x_test, data.y_test), time.perf_counter() - start,
                       data_seconds, compile_seconds, step_seconds)


def magnetisation(state) -> float:
    """The transverse magnetisation (1/n) sum_i <X_i>: about 1 in the paramagnet, small in
    the SPT phase and in the antiferromagnet."""
    n = state.n_sites
    return float(backends.of_state(state).expectation_pauli(
        state, [(1.0 / n, f"X{i}") for i in range(n)]))


def staggered_order(state) -> float:
    """-<X_a X_b> at odd distance b - a (about half the chain): positive in the
    antiferromagnet, -<X>^2 < 0 in the paramagnet, about 0 in the SPT phase."""
    n = state.n_sites
    a, b = n // 4, n // 4 + n // 2 + 1
    return -float(backends.of_state(state).expectation_pauli(state, f"X{a} X{b}"))


def grid_states(n_qubits: int, h1s, h2s, *, bond: int):
    """DMRG ground states of every (h1, h2) of the grid (an MPS batch, h2-major) and their
    string order, staggered order and transverse magnetisation (``[h2, h1]`` arrays)."""
    states, sop, afm, mx = [], [], [], []
    for h2 in h2s:
        for h1 in h1s:
            state, _ = ground_state(n_qubits, float(h1), float(h2), bond=bond)
            states.append(state)
            sop.append(string_order(state))
            afm.append(staggered_order(state))
            mx.append(magnetisation(state))
    shape = (len(h2s), len(h1s))
    batch = jax.tree.map(lambda *a: jnp.stack(a), *states)
    return batch, np.reshape(sop, shape), np.reshape(afm, shape), np.reshape(mx, shape)


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


def entropy_peak(entropy, lo: float, hi: float, *, coarse: int = 6, fine: int = 4) -> dict:
    """Where ``entropy(t)`` peaks on ``[lo, hi]``: a scan of ``coarse`` points, a second of
    ``fine`` points inside the bracket around the largest, then the vertex of the parabola
    through the largest and its two neighbours (the transition of a finite chain)."""
    ts = list(np.linspace(lo, hi, coarse))
    values = [entropy(t) for t in ts]
    i = int(np.argmax(values))
    a, b = ts[max(i - 1, 0)], ts[min(i + 1, coarse - 1)]
    for t in np.linspace(a, b, fine + 2)[1:-1]:
        if not np.isclose(t, ts[i]):
            ts.append(float(t))
            values.append(entropy(t))
    order = np.argsort(ts)
    ts, values = np.asarray(ts)[order], np.asarray(values)[order]
    j = int(np.clip(np.argmax(values), 1, len(ts) - 2))
    x, y = ts[j - 1:j + 2], values[j - 1:j + 2]
    curve = np.polyfit(x, y, 2)
    peak = -curve[1] / (2 * curve[0]) if curve[0] < 0 else x[1]
    return {"peak": float(np.clip(peak, x[0], x[2])), "max_entropy": float(values.max()),
            "scan": [[float(t), float(v)] for t, v in zip(ts, values)]}


def reference_boundary(n_qubits: int, *, rows=(-0.8, -0.4, 0.0, 0.4, 0.8, 1.2, 1.6),
                       columns=(0.1, 0.4, 0.7, 1.0), h1_range=(0.1, 1.6),
                       h2_range=(-1.6, 0.0), bond: int = 16) -> dict:
    """The phase boundaries of the open chain of ``n_qubits`` sites from a physical signal:
    the peak of the half-chain entanglement entropy of DMRG ground states along each h2 row
    (in h1: the SPT / paramagnet line) and along each h1 column (in h2 < 0: the SPT /
    antiferromagnet line)."""
    def along_h1(h2):
        return lambda h1: half_chain_entropy(n_qubits, h1, h2, bond=bond)

    def along_h2(h1):
        return lambda h2: half_chain_entropy(n_qubits, h1, h2, bond=bond)

    return {"n": n_qubits, "bond": bond, "signal": "peak of the half-chain entropy",
            "rows": [{"h2": h2, **entropy_peak(along_h1(h2), *h1_range)} for h2 in rows],
            "columns": [{"h1": h1, **entropy_peak(along_h2(h1), *h2_range)}
                        for h1 in columns]}


def boundary_along_h2(values, h2s, threshold: float) -> float:
    """The first h2 (going up) where ``values`` (along one h1 column) rises to
    ``threshold`` (linear interpolation); NaN if it never does."""
    values = np.asarray(values)
    for i in range(len(values) - 1):
        if values[i] < threshold <= values[i + 1]:
            frac = (threshold - values[i]) / (values[i + 1] - values[i])
            return float(h2s[i] + frac * (h2s[i + 1] - h2s[i]))
    return float("nan")


def reference_spt(reference: dict, h1s, h2s) -> np.ndarray:
    """``[h2, h1]`` True where the reference boundaries put the SPT phase: h1 below the
    SPT / paramagnet peak of the rows and h2 above the SPT / antiferromagnet peak of the
    columns, each interpolated linearly between its lines (held constant past the ends)."""
    rows = sorted((r["h2"], r["peak"]) for r in reference["rows"])
    cols = sorted((c["h1"], c["peak"]) for c in reference["columns"])
    h1_c = np.interp(h2s, [r[0] for r in rows], [r[1] for r in rows])
    h2_c = np.interp(h1s, [c[0] for c in cols], [c[1] for c in cols])
    return (np.asarray(h1s)[None, :] < h1_c[:, None]) & (np.asarray(h2s)[:, None] > h2_c[None, :])


def reference_antiferromagnet(reference: dict, h1s, h2s) -> np.ndarray:
    """``[h2, h1]`` True below the reference's SPT / antiferromagnet line (its column peaks
    interpolated linearly in h1, held constant past the ends)."""
    cols = sorted((c["h1"], c["peak"]) for c in reference["columns"])
    h2_c = np.interp(h1s, [c[0] for c in cols], [c[1] for c in cols])
    return np.asarray(h2s)[:, None] < h2_c[None, :]


def interpolated_boundaries(p_spt, h1s, h2s, reference: dict) -> dict:
    """The QCNN's P = 0.5 boundary on the reference's lines: along each reference row (P
    interpolated in h2) in h1, along each reference column (P interpolated in h1) in h2."""
    p = np.asarray(p_spt)
    rows = []
    for r in reference["rows"]:
        line = np.array([np.interp(r["h2"], h2s, p[:, j]) for j in range(len(h1s))])
        rows.append({"h2": r["h2"], "reference_h1": r["peak"],
                     "qcnn_h1": boundary_along_h1(line, h1s, 0.5)})
    cols = []
    for c in reference["columns"]:
        line = np.array([np.interp(c["h1"], h1s, p[i]) for i in range(len(h2s))])
        cols.append({"h1": c["h1"], "reference_h2": c["peak"],
                     "qcnn_h2": boundary_along_h2(line, h2s, 0.5)})
    return {"rows": rows, "columns": cols}
