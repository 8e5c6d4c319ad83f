"""The deep-circuit teacher task on a 2^n-node periodic grid (``data.type: grid_deep``):
samples are sampled nodes (their bit strings), labels come from a deep polynomial SIGN circuit
(:class:`qtnet.models.deep_sign.DeepSign`, L = 3 layers, degree 8) run on the MPS at a
LARGER bond than the student's, and the dataset hands the student Alice's hop state Φ.

Alice's side is built once: features |X> on ``node | feat`` (``bit_sums``: a constant plus a
few random signed sums of the node's bits, each times a random feature vector — about Gaussian
per node and exact at bond ``feature_terms + 1``; or ``random_mps``: uniform plus a random
low-bond MPS of relative weight ``feature_noise``), the graph's T as
a bond-9 MPO, Φ = Σ_k |k> T^k|X> at the teacher's bond ``teacher_bond``, scaled by √(2^n) so
that a node's amplitudes are O(1). The teacher runs its whole circuit at ``teacher_bond``; its
output biases are set so that its classes are about equally frequent (it stays in the
family: the student has the same biases). The student gets Φ compressed to ``max_bond``
(``Dataset.state``) and runs every operation at ``backend.max_bond``: its truncation error
shows in its agreement with the teacher (the accuracy on held-out nodes).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time

import numpy as np

from qtnet.config import BackendConfig, ConfigError, field
from qtnet.data.dataset import Dataset
from qtnet.data.grid import (balancing_offsets, check_full_hops, check_grid_shape,
                             peak_rss_gb)
from qtnet.data.registry import register_dataset

CHUNK = 2048                  # nodes per teacher read-out call


@dataclasses.dataclass(frozen=True)
class CircuitDataset(Dataset):
    """A dataset whose samples index a quantum state: ``state`` is the data state (an MPS)
    that a circuit model (``model.type: deep_sign``) runs on; ``teacher_state`` is the
    labelling circuit's output state (its logits are amplitudes of it plus
    ``info["teacher_offsets"]``), kept for read-outs beyond the sampled nodes."""

    state: object = None
    teacher_state: object = None


@dataclasses.dataclass(frozen=True)
class GridDeepConfig:
    """``data`` section of the deep-circuit grid task (``data.type: grid_deep``)."""

    type: str = field("grid_deep", help="dataset name")
    graph: str = field("grid", choices=("grid", "kronecker"), help="the graph: a periodic "
                       "square grid, or a Kronecker graph (initiator^{⊗ n}, expected adjacency)")
    graph_qubits: int = field(32, min=4, max=62, help="node-register qubits (2^n nodes; even "
                              "for the grid)")
    initiator_11: float = field(0.9, min=0.0, help="Kronecker initiator [[p11, p12], [p12, "
                                "p22]] (Leskovec et al. 2010's core-periphery example)")
    initiator_12: float = field(0.5, min=0.0, help="Kronecker initiator off-diagonal entry")
    initiator_22: float = field(0.1, min=0.0, help="Kronecker initiator p22")
    hops: int = field(3, min=1, max=63, help="SIGN hops R; R + 1 a power of two (1, 3, 7, ...)")
    sampled_nodes: int = field(20000, min=8, help="nodes drawn (with replacement, then the "
                               "distinct ones); 70% train, 15% val, 15% test")
    feature_qubits: int = field(3, min=1, max=8, help="feature-register qubits")
    features: str = field("bit_sums", choices=("bit_sums", "random_mps"), help="node "
                          "features: u + sum_j s_j(v) w_j(f) with s_j signed sums of the node's "
                          "bits, or uniform + a random low-bond MPS (heavy-tailed per node)")
    feature_terms: int = field(3, min=1, max=16, help="bit sums s_j (bit_sums; bond terms+1)")
    feature_uniform: float = field(0.5, min=0.0, help="the constant u (bit_sums)")
    feature_bond: int = field(4, min=1, help="bond of the random part of the features")
    feature_noise: float = field(0.3, min=0.0, help="weight of the random part against the "
                                 "uniform part of |X> (random_mps; per-node rms, relative)")
    classes: int = field(4, min=2, max=8, help="classes of the teacher circuit")
    max_bond: int = field(16, min=1, help="bond of the hop state handed to the student")
    teacher_bond: int = field(32, min=1, help="bond of the teacher's hop state and circuit")
    teacher_layers: int = field(3, min=1, max=8, help="the teacher's L (degree 2^L)")
    teacher_weight_bond: int = field(4, min=1, help="bond of the teacher's MPO cores")
    teacher_scale: float = field(1.0, min=0.0, help="spread of the teacher's cores")
    dtype: str = field("float64", choices=("float32", "float64"), help="of the states")
    seed: int = field(0, min=0, help="seeds the features, the node sample and the teacher")

    def validate(self) -> None:
        """The grid is square, the hop register full, the Kronecker initiator has no zero
        row, the teacher's bond at least the student's hop state's."""
        if self.graph == "grid":
            check_grid_shape(self.graph_qubits, self.hops)
        else:
            check_full_hops(self.hops)
        if self.graph == "kronecker" and min(self.initiator_11 + self.initiator_12,
                                             self.initiator_12 + self.initiator_22) <= 0:
            raise ConfigError(f"data.initiator_*: every row of the Kronecker initiator needs "
                              f"a positive entry, got [[{self.initiator_11}, "
                              f"{self.initiator_12}], [{self.initiator_12}, "
                              f"{self.initiator_22}]]")
        if self.features == "bit_sums" and self.teacher_bond < self.feature_terms + 1:
            raise ConfigError(f"data.teacher_bond: {self.feature_terms} bit-sum features "
                              f"(data.feature_terms) are exact at bond "
                              f"{self.feature_terms + 1}, got {self.teacher_bond}")
        if self.teacher_bond < self.max_bond:
            raise ConfigError(f"data.teacher_bond: the teacher runs at a bond at least the "
                              f"student's hop state's (data.max_bond = {self.max_bond}), got "
                              f"{self.teacher_bond}")

    def validate_backend(self, backend: BackendConfig) -> None:
        """The student's bond must not exceed the teacher's (truncation error must show)."""
        if backend.max_bond is not None and backend.max_bond > self.teacher_bond:
            raise ConfigError(f"backend.max_bond: the student's bond ({backend.max_bond}) "
                              f"exceeds the teacher's (data.teacher_bond = "
                              f"{self.teacher_bond})")


@register_dataset("grid_deep", GridDeepConfig)
def grid_deep_dataset(config: GridDeepConfig) -> CircuitDataset:
    """Build Φ, the teacher's labels of sampled nodes, and the 70 / 15 / 15 split; ``info``
    records the bonds, the fidelity estimates and the teacher's class counts."""
    from qtnet import tn

    config.validate()
    start = time.perf_counter()
    # Alice's Φ and the teacher do not depend on the student's bond: a sweep over it in one
    # process builds them once
    phi, out, bits, y, offsets = _alice_and_teacher(
        dataclasses.replace(config, max_bond=config.teacher_bond))
    student_phi = tn.compress(phi, max_bond=config.max_bond)[0]
    n = config.graph_qubits
    info = {"graph": graph_name(config), "nodes": 2**n,
            "qubits": phi.n_sites, "max_bond": config.max_bond,
            "teacher_bond": config.teacher_bond, "teacher_layers": config.teacher_layers,
            "hop_state_fidelity": float(student_phi.fidelity_estimate),
            "teacher_fidelity": float(out.fidelity_estimate),
            "build_seconds": time.perf_counter() - start, "peak_rss_gb": peak_rss_gb(),
            "class_counts": np.bincount(y, minlength=config.classes).tolist(),
            "teacher_offsets": offsets.tolist()}
    n_train, n_val = int(0.7 * len(y)), int(0.15 * len(y))
    tr, va, te = np.split(np.arange(len(y)), [n_train, n_train + n_val])
    return CircuitDataset("grid_deep", bits[tr], y[tr], bits[te], y[te], config.classes,
                          bits[va], y[va], None, info, state=student_phi, teacher_state=out)


@functools.lru_cache(maxsize=2)
def _alice_and_teacher(config: GridDeepConfig):
    """Φ at the teacher's bond, the teacher's output state, the sampled nodes' bits, their
    labels and the teacher's balancing offsets."""
    # Imported here, not above: importing qtnet.data (the numpy loaders) stays free of JAX.
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from qtnet import tn
    from qtnet.gnn.synthetic import hop_state, node_bits
    from qtnet.models.deep_sign import DeepSign

    n = config.graph_qubits
    dtype = jnp.float64 if config.dtype == "float64" else jnp.float32
    phi = hop_state(propagation_mpo(config, dtype), node_features(config, dtype), config.hops,
                    max_bond=config.teacher_bond)
    phi = tn.scale(phi, math.sqrt(2.0**n))            # a node's amplitudes are O(1)
    rng = np.random.default_rng(config.seed)
    nodes = rng.permutation(np.unique(rng.integers(0, 2**n, size=config.sampled_nodes,
                                                   dtype=np.int64)))
    bits = node_bits(nodes, n)
    teacher = DeepSign(phi, n, config.classes, layers=config.teacher_layers,
                       weight_bond=config.teacher_weight_bond, max_bond=config.teacher_bond,
                       init_scale=config.teacher_scale, rngs=nnx.Rngs(params=config.seed + 1))
    out = jax.jit(teacher.output_state)()
    read = jax.jit(teacher.read)
    logits = np.concatenate([np.asarray(read(out, _pad(bits[i:i + CHUNK])))[:len(bits[i:i + CHUNK])]
                             for i in range(0, len(bits), CHUNK)])
    offsets = balancing_offsets(logits)
    y = np.argmax(logits + offsets, -1).astype(np.int32)
    return phi, out, bits, y, offsets


def node_features(config: GridDeepConfig, dtype):
    """|X> on ``node | feat``, unit norm, at bond ``teacher_bond``."""
    import jax

    from qtnet import tn
    from qtnet.gnn.synthetic import bit_sum_features

    n, sites = config.graph_qubits, config.graph_qubits + config.feature_qubits
    if config.features == "bit_sums":
        return bit_sum_features(n, config.feature_qubits, config.feature_terms,
                                config.feature_uniform, config.seed,
                                max_bond=config.teacher_bond, dtype=dtype)
    # a random low-bond MPS alone has heavy-tailed node amplitudes, which a degree-2^L
    # teacher turns into a few huge logits: mix it into the uniform state
    uniform = tn.scale(tn.product_state(np.ones((sites, 2)), dtype=dtype), 2.0 ** (-sites / 2))
    noise = tn.random_mps(jax.random.PRNGKey(config.seed), sites, config.feature_bond,
                          max_bond=config.teacher_bond, dtype=dtype)
    return tn.add(uniform, tn.scale(noise, config.feature_noise), max_bond=config.teacher_bond)


def propagation_mpo(config: GridDeepConfig, dtype):
    """T of the configured graph, an MPO on the node register."""
    from qtnet.gnn.synthetic import grid_propagation_mpo, kronecker_propagation_mpo

    if config.graph == "grid":
        return grid_propagation_mpo(config.graph_qubits // 2, dtype)
    p = [[config.initiator_11, config.initiator_12], [config.initiator_12, config.initiator_22]]
    return kronecker_propagation_mpo(p, config.graph_qubits, dtype)


def graph_name(config: GridDeepConfig) -> str:
    n = config.graph_qubits
    if config.graph == "grid":
        return f"periodic grid {2 ** (n // 2)} x {2 ** (n // 2)}"
    return (f"Kronecker graph, initiator [[{config.initiator_11}, {config.initiator_12}], "
            f"[{config.initiator_12}, {config.initiator_22}]] ^ {n}")


def _pad(bits: np.ndarray) -> np.ndarray:
    """A fixed-size chunk of node bits (one compiled read-out), padded with node 0."""
    return np.concatenate([bits, np.zeros((CHUNK - len(bits), bits.shape[1]), bits.dtype)])
