"""A teacher-student node task on a periodic grid of 2^n nodes that exists only as MPS/MPO.

Alice's side is built once: random low-bond features |X> on ``node | feat`` (an MPS), the
grid's propagation operator T as a bond-9 MPO, and the hop state Φ = Σ_k |k> T^k|X>
(compressed to the bond cap, with its fidelity estimate). Sampled nodes read their hop
features as amplitudes of Φ; a fixed random polynomial SIGN (the teacher) labels them, and
the trainer fits a student SIGN on the training nodes. The teacher's output biases are
shifted so that its classes are about equally frequent (it is still a SIGN). Agreement with
the teacher is the student's accuracy on held-out nodes.
"""

from __future__ import annotations

import dataclasses
import math
import resource
import time

import numpy as np

from qtnet.config import ConfigError, field
from qtnet.data.dataset import Dataset
from qtnet.data.registry import register_dataset

FEATURE_QUBITS = 3            # 8 features per node
TEACHER_HIDDEN = 16
CHUNK = 4096                  # nodes per amplitude read-out call


@dataclasses.dataclass(frozen=True)
class GridConfig:
    """``data`` section of the grid teacher-student task (``data.type: grid``)."""

    type: str = field("grid", help="dataset name")
    graph_qubits: int = field(32, min=4, max=62, help="node-register qubits, even (2^n nodes)")
    hops: int = field(3, min=1, max=63, help="SIGN hops R; R + 1 a power of two (1, 3, 7, ...)")
    sampled_nodes: int = field(20000, min=20, help="nodes drawn; 70% train, 15% val, 15% test")
    feature_bond: int = field(4, min=1, help="bond of the random feature MPS")
    classes: int = field(4, min=2, max=8, help="classes of the teacher SIGN")
    max_bond: int = field(32, min=1, help="bond cap of the feature MPS and the hop state")
    cutoff: float = field(0.0, min=0.0, max=1.0, help="relative singular-value cutoff")
    dtype: str = field("float32", choices=("float32", "float64"),
                       help="of the states (the task is real)")
    seed: int = field(0, min=0, help="seeds the features, the node sample and the teacher")

    def validate(self) -> None:
        """The grid is square and the hop register full."""
        check_grid_shape(self.graph_qubits, self.hops)


def check_grid_shape(graph_qubits: int, hops: int) -> None:
    """A square grid (an even number of node qubits) and a full hop register."""
    if graph_qubits % 2:
        raise ConfigError(f"data.graph_qubits: a square grid needs an even number of "
                          f"qubits, got {graph_qubits}")
    check_full_hops(hops)


def check_full_hops(hops: int) -> None:
    """The hop register is full: hops + 1 a power of two."""
    if 2 ** round(math.log2(hops + 1)) != hops + 1:
        raise ConfigError(f"data.hops: the hop register must be full: hops + 1 a "
                          f"power of two (1, 3, 7, ...), got {hops}")


@register_dataset("grid", GridConfig)
def grid_teacher_dataset(config: GridConfig) -> Dataset:
    """Build the hop state, sample and label nodes, split them 70 / 15 / 15 (train / val /
    test); ``info`` records the bond used and the hop state's fidelity estimate."""
    # Imported here, not above: importing qtnet.data (the numpy loaders) stays free of JAX.
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from qtnet import tn
    from qtnet.gnn.synthetic import HopFeatures, grid_propagation_mpo, hop_state, node_bits
    from qtnet.models.sign import SIGN

    config.validate()
    n, hops = config.graph_qubits, config.hops
    dtype = jnp.float64 if config.dtype == "float64" else jnp.float32
    chi = config.max_bond
    start = time.perf_counter()
    key = jax.random.PRNGKey(config.seed)
    features = tn.random_mps(key, n + FEATURE_QUBITS, config.feature_bond, max_bond=chi,
                             dtype=dtype)
    phi = hop_state(grid_propagation_mpo(n // 2, dtype), features, hops, max_bond=chi,
                    cutoff=config.cutoff)
    read = HopFeatures(phi, n, int(math.log2(hops + 1)), 2**FEATURE_QUBITS)
    build_seconds = time.perf_counter() - start

    rng = np.random.default_rng(config.seed)
    nodes = np.unique(rng.integers(0, 2**n, size=config.sampled_nodes, dtype=np.int64))
    nodes = rng.permutation(nodes)
    read_fn = jax.jit(read.of_bits)
    # unit-norm state over 2^n nodes: scale so a node's features are O(1)
    scale = math.sqrt(2.0**n)
    x = np.concatenate([np.asarray(read_fn(node_bits(_pad(nodes[i:i + CHUNK]), n))
                                   [:len(nodes[i:i + CHUNK])])
                        for i in range(0, len(nodes), CHUNK)]) * scale
    teacher = SIGN(x.shape[2], config.classes, hops=hops, hidden=TEACHER_HIDDEN,
                   activation="poly", dropout=0.0, input_dropout=0.0,
                   rngs=nnx.Rngs(params=config.seed + 1))
    logits = np.asarray(teacher(jnp.asarray(x, jnp.float32))["logits"])
    y = np.argmax(logits + balancing_offsets(logits), -1).astype(np.int32)
    n_train, n_val = int(0.7 * len(nodes)), int(0.15 * len(nodes))
    parts = np.split(np.arange(len(nodes)), [n_train, n_train + n_val])
    x = x.astype(np.float32)
    info = {"graph": f"periodic grid {2 ** (n // 2)} x {2 ** (n // 2)}", "nodes": 2**n,
            "qubits": phi.n_sites, "max_bond": chi, "bond_used": phi.max_bond_used(),
            "hop_state_fidelity": float(phi.fidelity_estimate),
            "build_seconds": build_seconds, "peak_rss_gb": peak_rss_gb(),
            "class_counts": np.bincount(y, minlength=config.classes).tolist()}
    (tr, va, te) = parts
    return Dataset("grid", x[tr], y[tr], x[te], y[te], config.classes, x[va], y[va], None,
                   info)


def balancing_offsets(logits: np.ndarray, rounds: int = 2000) -> np.ndarray:
    """Per-class offsets added to the output bias so that argmax classes are about equally
    frequent over the sample (a random quadratic teacher otherwise puts most nodes in one
    class). Damped multiplicative updates on a robust logit scale."""
    n, c = logits.shape
    offsets = np.zeros(c)
    scale = float(np.median(np.abs(logits - np.median(logits, 0)))) or 1.0
    for t in range(rounds):
        counts = np.bincount(np.argmax(logits + offsets, -1), minlength=c) + 1
        offsets -= scale / (1 + t / 50) * np.log(counts / (n / c))
    return offsets


def _pad(nodes: np.ndarray) -> np.ndarray:
    """A fixed-size chunk of nodes (one compiled read-out), padded with node 0."""
    return np.concatenate([nodes, np.zeros(CHUNK - len(nodes), np.int64)])


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
