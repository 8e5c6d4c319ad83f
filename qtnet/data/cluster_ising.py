"""Ground states of the cluster-Ising chain labelled by phase (``data.type: cluster_ising``).

H = -sum_i Z_{i-1} X_i Z_{i+1} - h1 sum_i X_i - h2 sum_i X_i X_{i+1} on an open chain of n
sites (Cong, Choi & Lukin, Nat. Phys. 15, 1273 (2019)), its ground states by quimb's DMRG
(converted with :func:`qtnet.tn.interop.from_quimb`). The training data lie on the h2 = 0 line,
where the model is free fermions and the SPT / paramagnet boundary is h1 = 1 exactly:
label 1 = SPT (h1 < 1), 0 = paramagnet. Samples are indices into the dataset's stacked
states (``Dataset.state``, an MPS batch); a circuit model (``model.type: qcnn``) reads them.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from qtnet.config import ConfigError, field
from qtnet.data.grid_deep import CircuitDataset
from qtnet.data.registry import register_dataset

PHASES = ("paramagnet", "SPT", "antiferromagnet")
"""The three phases of the (h1, h2) diagram; on the h2 = 0 line only the first two occur."""


def cluster_ising_mpo(n_sites: int, h1: float, h2: float):
    """H as a quimb MatrixProductOperator of bond 5 (a finite-state machine over the terms).

    Raises:
      ValueError: fewer than 3 sites (Z_{i-1} X_i Z_{i+1} needs three).
    """
    import quimb.tensor as qtn

    if n_sites < 3:
        raise ValueError(f"the cluster-Ising Hamiltonian's Z_(i-1) X_i Z_(i+1) terms need at "
                         f"least 3 sites, got {n_sites}")
    eye, x, z = np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]]), np.diag([1.0, -1.0])
    # states: 0 nothing placed, 1 after Z, 2 after Z X, 3 after X, 4 term complete
    w = np.zeros((5, 5, 2, 2))                                 # "l r u d"
    w[0, 0] = w[4, 4] = eye
    w[0, 1], w[1, 2], w[2, 4] = z, x, -z
    w[0, 3], w[3, 4] = x, -h2 * x
    w[0, 4] = -h1 * x
    return qtn.MatrixProductOperator([w[0], *[w] * (n_sites - 2), w[:, 4]], shape="lrud")


def dmrg_ground_state(n_sites: int, h1: float, h2: float, *, bond: int, max_sweeps: int = 10,
                      tol: float = 1e-9):
    """``(quimb MPS, energy)``: quimb's DMRG2 ground state at bond ``bond`` at most."""
    import quimb.tensor as qtn

    schedule = sorted({min(bond, b) for b in (4, 8, 16, 32, 64, bond)})
    dmrg = qtn.DMRG2(cluster_ising_mpo(n_sites, h1, h2), bond_dims=schedule, cutoffs=1e-12)
    dmrg.solve(tol=tol, max_sweeps=max_sweeps, verbosity=0)
    return dmrg.state, float(np.real(dmrg.energy))


def half_chain_entropy(n_sites: int, h1: float, h2: float, *, bond: int) -> float:
    """The von Neumann entropy, in bits (log2, quimb's convention), of the DMRG ground
    state's left half."""
    state, _ = dmrg_ground_state(n_sites, h1, h2, bond=bond)
    return float(state.entropy(n_sites // 2))


def ground_state(n_sites: int, h1: float, h2: float, *, bond: int, dtype=np.float64,
                 max_sweeps: int = 10, tol: float = 1e-9):
    """``(state, energy)``: the DMRG ground state as a qtnet MPS of bond cap ``bond``."""
    from qtnet.tn import with_bond_cap
    from qtnet.tn.interop import from_quimb

    mps, energy = dmrg_ground_state(n_sites, h1, h2, bond=bond, max_sweeps=max_sweeps,
                                    tol=tol)
    # zero-padded to one bond everywhere: every state converts with one compiled shape
    padded = mps.expand_bond_dimension(bond, rand_strength=0.0, inplace=False)
    state = from_quimb(padded, max_bond=bond, dtype=dtype)
    return with_bond_cap(state, bond), energy


def string_order(state, length: int | None = None) -> float:
    """The SPT string order <Z_a X_(a+1) X_(a+3) ... X_(b-1) Z_b> over the chain's middle
    (b - a = ``length``, even; default half the chain): about 1 deep in the SPT phase, 0 in
    the others (Cong et al.'s reference for the QCNN's output)."""
    from qtnet.tn import backends

    n = state.n_sites
    length = length or 2 * (n // 4)
    a = (n - length) // 2
    ops = [f"Z{a}", *[f"X{i}" for i in range(a + 1, a + length, 2)], f"Z{a + length}"]
    return float(backends.of_state(state).expectation_pauli(state, " ".join(ops)))


@dataclasses.dataclass(frozen=True)
class ClusterIsingConfig:
    """``data`` section of the cluster-Ising phases (``data.type: cluster_ising``)."""

    type: str = field("cluster_ising", help="dataset name")
    qubits: int = field(16, min=4, max=1024, help="chain length n (a power of two)")
    h1_max: float = field(1.6, min=0.0, help="training fields h1 in (0, h1_max] on h2 = 0")
    train_points: int = field(24, min=2, help="ground states on the training line")
    test_points: int = field(12, min=1, help="held-out ground states between them")
    bond: int = field(16, min=2, max=256, help="DMRG bond (and the states' bond cap)")
    max_sweeps: int = field(10, min=1, help="DMRG sweeps at most")
    dtype: str = field("float64", choices=("float32", "float64"), help="of the states")

    def validate(self) -> None:
        n = self.qubits
        if n & (n - 1):
            raise ConfigError(f"data.qubits: the QCNN pools the chain in halves, so its "
                              f"length is a power of two; got {n}")
        if self.h1_max <= 1.0:
            raise ConfigError(f"data.h1_max: the training line must cross the SPT / "
                              f"paramagnet boundary at h1 = 1; got h1_max = {self.h1_max}")


def training_fields(config: ClusterIsingConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(h1 train, h1 test)`` on the h2 = 0 line: the test fields sit between the training
    ones; neither lands exactly on the critical h1 = 1."""
    total = config.train_points + config.test_points
    h1 = config.h1_max * (np.arange(total) + 0.5) / total
    h1 = np.where(np.isclose(h1, 1.0), h1 + 0.25 * config.h1_max / total, h1)
    test = np.zeros(total, bool)
    test[np.linspace(1, total - 2, config.test_points).round().astype(int)] = True
    return h1[~test], h1[test]


@register_dataset("cluster_ising", ClusterIsingConfig)
def cluster_ising_dataset(config: ClusterIsingConfig) -> CircuitDataset:
    """DMRG ground states on the h2 = 0 line, labelled SPT (1) / paramagnet (0)."""
    import jax
    import jax.numpy as jnp

    config.validate()
    start = time.perf_counter()
    h1_train, h1_test = training_fields(config)
    dtype = jnp.float64 if config.dtype == "float64" else jnp.float32
    fields = np.concatenate([h1_train, h1_test])
    solved = [ground_state(config.qubits, h1, 0.0, bond=config.bond, dtype=dtype,
                           max_sweeps=config.max_sweeps) for h1 in fields]
    states = jax.tree.map(lambda *a: jnp.stack(a), *[s for s, _ in solved])
    labels = (fields < 1.0).astype(np.int32)
    index = np.arange(len(fields), dtype=np.int32)[:, None]
    n_train = len(h1_train)
    info = {"qubits": config.qubits, "bond": config.bond, "h2": 0.0,
            "labels": "1 = SPT (h1 < 1), 0 = paramagnet",
            "h1_train": [round(float(h), 4) for h in h1_train],
            "h1_test": [round(float(h), 4) for h in h1_test],
            "dmrg_seconds": round(time.perf_counter() - start, 2)}
    return CircuitDataset("cluster_ising", index[:n_train], labels[:n_train], index[n_train:],
                          labels[n_train:], 2, info=info, state=states)
