"""The training config schema: nested frozen dataclasses with their defaults and bounds.

``model`` and ``data`` are tagged sections: ``model.type`` / ``data.type`` pick the dataclass
(each model and dataset registers its own beside its code), so every key means one thing.
A section checks its own keys in ``validate()``; one that runs on the backend checks it in
``validate_backend(backend)``, which :meth:`Config.validate` calls.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from qtnet.config.choice import choice
from qtnet.config.errors import ConfigError
from qtnet.config.load import field, section

X64_DTYPES = ("float64", "complex128")


@dataclasses.dataclass(frozen=True)
class BackendConfig:
    type: str = field("mps", choices=("mps", "dense", "tree", "tn"))
    max_bond: int | None = field(None, min=1, help="MPS bond cap; null = exact for the register")
    cutoff: float = field(0.0, min=0.0, max=1.0)
    dtype: str = field("float32", choices=("float32", "float64", "complex64", "complex128"))


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    name: str = field("adam", choices=("adam", "adamw", "sgd", "rmsprop", "lion"))
    learning_rate: float = field(0.05, min=0.0)
    weight_decay: float = field(0.0, min=0.0)
    momentum: float = field(0.9, min=0.0, max=1.0, help="sgd and rmsprop only")
    grad_clip: float | None = field(None, min=0.0, help="clip by global norm; null = off")


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    type: str = field("constant", choices=("constant", "cosine", "warmup_cosine", "linear"))
    warmup_steps: int = field(0, min=0)
    end_factor: float = field(0.0, min=0.0, max=1.0, help="final lr / peak lr (cosine, linear)")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    steps: int = field(100, min=1, max=10**8)
    batch_size: int = field(32, min=1, max=2**20, help="at most the training split's size")
    seed: int = field(0, min=0)
    eval_every: int = field(50, min=1, help="evaluate on the test split every this many steps")
    log_every: int = field(10, min=1, help="plain-text progress line period (not on a terminal)")


# Metrics a checkpoint can be ranked by: every train / eval record has these.
BEST_METRICS = (None, *(f"{split}/{name}" for split in ("eval", "train")
                        for name in ("accuracy", "loss", "fidelity")))


@dataclasses.dataclass(frozen=True)
class EstimatorConfig:
    shots: int | None = field(None, min=1, max=10**9,
                              help="train on shot-noise estimates: each class distribution "
                                   "from this many copies, gradients by parameter shift (a "
                                   "circuit model with ry_cz gates); null = exact")


@dataclasses.dataclass(frozen=True)
class CheckpointConfig:
    every: int = field(50, min=1, help="save every this many steps (and at the end)")
    keep: int = field(3, min=1, help="keep the last this many checkpoints")
    best_metric: str | None = field("eval/accuracy", choices=BEST_METRICS,
                                    help="also keep the best by this metric; null = off")
    best_mode: str = field("max", choices=("max", "min"))


@dataclasses.dataclass(frozen=True)
class MeteringConfig:
    enabled: bool = field(True, help="log the communication a circuit model's training costs")
    epsilon: float = field(0.05, help="accuracy of each loss / gradient estimate, > 0")
    delta: float = field(0.05, help="failure probability, in (0, 1)")
    gradient: str = field("parameter_shift", choices=("none", "parameter_shift", "shadow"))
    bits: int = field(32, min=1, help="bits per number in the classical analogue")


@dataclasses.dataclass(frozen=True)
class CircuitConfig:
    evaluate: bool = field(False, help="sign on a graph: after training, evaluate the best "
                                       "checkpoint as a circuit and write its comm report")
    epsilon: float = field(0.01, help="accuracy of each read-out estimate, > 0")
    delta: float = field(0.05, help="failure probability, in (0, 1)")


@dataclasses.dataclass(frozen=True)
class DecisionConfig:
    evaluate: bool = field(False, help="deep_sign on grid_deep: after training, the decision "
                                       "problem on node sets S (sub-grids), each class's mean "
                                       "logit over S read as one overlap")
    sets: int = field(32, min=1, max=100000, help="node sets S (random sub-grids)")
    free_qubits: int = field(20, min=1, max=62, help="log2 |S|: node bits left free (the low "
                             "bits of each axis on the grid)")
    sample: int = field(256, min=1, max=1000000, help="nodes per set the teacher labels to "
                        "count its classes (the decision problem's truth)")


@dataclasses.dataclass(frozen=True)
class CompilationConfig:
    cache: bool = field(True, help="keep compiled programs on disk across runs (JAX's "
                                   "persistent cache; env QTNET_COMPILATION_CACHE=off also "
                                   "turns it off)")
    cache_dir: str | None = field(None, help="cache folder; null = $QTNET_COMPILATION_CACHE, "
                                             "else $XDG_CACHE_HOME/qtnet/jax or "
                                             "~/.cache/qtnet/jax")


@dataclasses.dataclass(frozen=True)
class Config:
    model: Any = choice("model", "figure2", provider="qtnet.models")
    data: Any = choice("data", "digits", provider="qtnet.data", aliases=("name",))
    backend: BackendConfig = section(BackendConfig)
    optimizer: OptimizerConfig = section(OptimizerConfig)
    schedule: ScheduleConfig = section(ScheduleConfig)
    training: TrainingConfig = section(TrainingConfig)
    estimator: EstimatorConfig = section(EstimatorConfig)
    checkpoint: CheckpointConfig = section(CheckpointConfig)
    metering: MeteringConfig = section(MeteringConfig)
    circuit: CircuitConfig = section(CircuitConfig)
    decision: DecisionConfig = section(DecisionConfig)
    compilation: CompilationConfig = section(CompilationConfig)

    def validate(self) -> None:
        """Checks that span sections."""
        if not self.metering.epsilon > 0:
            raise ConfigError(f"metering.epsilon: expected a value > 0, "
                              f"got {self.metering.epsilon!r}")
        if not 0 < self.metering.delta < 1:
            raise ConfigError(f"metering.delta: expected a value in (0, 1), "
                              f"got {self.metering.delta!r}")
        if not self.circuit.epsilon > 0 or not 0 < self.circuit.delta < 1:
            raise ConfigError(f"circuit: expected epsilon > 0 and delta in (0, 1), got "
                              f"{self.circuit.epsilon!r}, {self.circuit.delta!r}")
        for name in ("model", "data"):       # sections that run on the backend check it
            check = getattr(getattr(self, name), "validate_backend", None)
            if check is not None:
                check(self.backend)
        if self.schedule.warmup_steps >= self.training.steps and self.schedule.warmup_steps:
            raise ConfigError(f"schedule.warmup_steps: expected fewer than training.steps "
                              f"({self.training.steps}), got {self.schedule.warmup_steps}")

    @property
    def needs_x64(self) -> bool:
        """Whether any section asks for a 64-bit dtype (JAX's 64-bit mode must be on)."""
        return any(getattr(getattr(self, f.name), "dtype", None) in X64_DTYPES
                   for f in dataclasses.fields(self))


# Sections whose change makes an existing checkpoint unusable (shapes or meaning differ) or a
# resumed run differ from an unbroken one (the schedule); training.seed and batch_size are
# checked too (qtnet.training.run_folder.RESUME_SENSITIVE_KEYS). Section names only: the
# trainer's compile cache keys on these sections.
RESUME_SENSITIVE = ("model", "data", "backend", "optimizer", "schedule", "estimator")


MIN_EPSILON = 1e-12


@dataclasses.dataclass(frozen=True)
class CommReportConfig:
    """``qtnet comm-report --config FILE``: a protocol and the accuracy of its estimates."""

    protocol: str = field("figure2", choices=("figure2", "chain", "linear"))
    layers: int = field(1, min=1, help="figure2: L; chain: rounds; linear: unused")
    qubits: int = field(10, min=1, max=4096, help="qubits of the data register (N = 2^qubits)")
    depth: int = field(1, min=1, help="brickwork layers per unitary")
    parties: int = field(3, min=2, help="chain only: the number of parties")
    classes: int = field(1, min=1, help="linear only: classes, one inner product <w_c, x> each")
    ansatz: str = field("ry_cz", choices=("ry_cz", "su4"))
    observable: str = field("Z0")
    epsilon: float = field(0.01, help="loss / gradient accuracy, > 0")
    delta: float = field(0.05, help="failure probability, in (0, 1)")
    gradient: str = field("none", choices=("none", "parameter_shift", "shadow"))
    bits: int = field(32, min=1, help="bits per number in the classical analogue")
    shadow_constant: float = field(1.0, help="the unknown constant C of the shadow estimate")

    def validate(self) -> None:
        if not self.epsilon > 0:
            raise ConfigError(f"epsilon: expected a value > 0, got {self.epsilon!r}")
        if self.epsilon < MIN_EPSILON:       # shot and bit counts go as 1/epsilon^2
            raise ConfigError(f"epsilon: expected a value >= {MIN_EPSILON:g} (counts grow as "
                              f"1/epsilon^2), got {self.epsilon!r}")
        if not 0 < self.delta < 1:
            raise ConfigError(f"delta: expected a value in (0, 1), got {self.delta!r}")
        if not self.observable.strip():
            raise ConfigError("observable: expected a Pauli string such as 'Z0' or 'X0 Z5', "
                              "got an empty one")
        if not self.shadow_constant > 0:
            raise ConfigError(f"shadow_constant: expected a value > 0, "
                              f"got {self.shadow_constant!r}")


def int_list(value, key: str) -> tuple[int, ...]:
    """``8``, ``"8,16,32"`` or ``"8..64"`` (doubling) as a sorted tuple of positive ints."""
    text = str(value).strip()
    try:
        if ".." in text:
            lo, hi = (int(t) for t in text.split(".."))
            if lo < 1:
                raise ValueError
            items = []
            while lo <= hi:
                items.append(lo)
                lo *= 2
        else:
            items = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"{key}: expected positive integers like '8,16,32' or '8..64', "
                          f"got {value!r}") from None
    if not items or min(items) < 1:
        raise ConfigError(f"{key}: empty sweep range {value!r}; give at least one positive "
                          f"integer, e.g. '8,16,32' or '8..64'")
    return tuple(sorted(set(items)))


@dataclasses.dataclass(frozen=True)
class GradientDiagnosticsConfig:
    """``qtnet diagnose gradients --config FILE``: the barren-plateau sweep."""

    qubits: str | int = field("8..64", help="qubit counts: '8,16,32' or '8..64' (doubling)")
    depths: str | int = field("1,2,4", help="brickwork depths, same forms as qubits")
    samples: int = field(200, min=2, help="random initialisations per point")
    seed: int = field(0, min=0)
    backend: str = field("mps", choices=("mps", "dense"))
    max_bond: int | None = field(None, min=1, help="MPS bond cap; null = exact, 2^ceil(L/2)")

    def validate(self) -> None:
        n = int_list(self.qubits, "qubits")
        int_list(self.depths, "depths")
        if min(n) < 2:
            raise ConfigError(f"qubits: expected every count >= 2, got {self.qubits!r}")

    @property
    def qubit_counts(self) -> tuple[int, ...]:
        return int_list(self.qubits, "qubits")

    @property
    def depth_counts(self) -> tuple[int, ...]:
        return int_list(self.depths, "depths")
