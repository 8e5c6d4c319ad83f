"""Named qubit registers laid out side by side on the sites of one state, and amplitude encoding.

A register of n qubits holds a vector of length 2^n. Registers are placed in the order given,
site 0 first (the most significant qubit), so a matrix X on ``(node, feat)`` is vec(X) in
row-major order: amplitude ``(v, f)`` sits at index ``v * 2^n_feat + f``.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from qtnet import tn
from qtnet.tn import backends


@dataclasses.dataclass(frozen=True)
class Register:
    name: str
    n_qubits: int

    def __post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a register needs a name, got {self.name!r}")
        if not isinstance(self.n_qubits, int) or self.n_qubits < 1:
            raise ValueError(f"register {self.name!r}: n_qubits must be a positive integer, "
                             f"got {self.n_qubits!r}")

    @property
    def dim(self) -> int:
        return 2**self.n_qubits


@dataclasses.dataclass(frozen=True)
class Layout:
    """Registers side by side; ``sites(name)`` is the ``range`` of sites a register occupies."""

    registers: tuple[Register, ...]

    def __post_init__(self):
        names = [r.name for r in self.registers]
        if not names:
            raise ValueError("a layout needs at least one register")
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"register names must be unique; repeated: {', '.join(dup)}")

    @property
    def n_qubits(self) -> int:
        return sum(r.n_qubits for r in self.registers)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.registers)

    def register(self, name: str) -> Register:
        for r in self.registers:
            if r.name == name:
                return r
        raise ValueError(f"unknown register {name!r}; registers are {', '.join(self.names)}")

    def sites(self, name: str) -> range:
        start = 0
        for r in self.registers:
            if r.name == name:
                return range(start, start + r.n_qubits)
            start += r.n_qubits
        raise ValueError(f"unknown register {name!r}; registers are {', '.join(self.names)}")

    def span(self, names) -> range:
        """The sites of several registers, which must be adjacent in the layout."""
        ranges = sorted((self.sites(n) for n in names), key=lambda r: r.start)
        for a, b in zip(ranges, ranges[1:]):
            if a.stop != b.start:
                raise ValueError(f"registers {', '.join(names)} are not adjacent in the layout "
                                 f"({', '.join(self.names)})")
        return range(ranges[0].start, ranges[-1].stop)


def pad_to_register(x, n_qubits: int, what: str = "data"):
    """Zero-pad a vector to ``2**n_qubits``; longer data is an error, not a silent cut."""
    x = jnp.asarray(x).reshape(-1)
    if x.shape[0] > 2**n_qubits:
        raise ValueError(f"{what} has {x.shape[0]} entries; {n_qubits} qubits hold at most "
                         f"{2**n_qubits}")
    return jnp.pad(x, (0, 2**n_qubits - x.shape[0]))


def qubits_for(length: int) -> int:
    """Qubits needed to amplitude-encode ``length`` numbers (at least 1)."""
    return max(1, math.ceil(math.log2(length)))


def amplitude_encode(x, n_qubits: int, *, backend: str | backends.Backend = "mps",
                     max_bond: int | None = None, cutoff: float = 0.0, dtype=None):
    """``(|x> = x / ||x||, log ||x||)``: the unit state on ``n_qubits`` and the classical
    log-norm (kept as a log so that 2^40-entry data neither under- nor overflows).

    ``x`` may be a vector (padded with zeros to ``2**n_qubits``) or a matrix, encoded as
    vec(x) in row-major order (pad each axis yourself to register sizes first).
    """
    ops = backends.get(backend)
    x = jnp.asarray(x)
    vec = pad_to_register(x, n_qubits)
    norm = jnp.linalg.norm(vec)
    if not isinstance(norm, jax.core.Tracer) and not (np.isfinite(float(norm)) and norm > 0):
        raise ValueError(f"cannot amplitude-encode data with norm {float(norm)}")
    unit = vec / norm
    dtype = dtype or tn.default_dtype()
    return ops.encode(unit, max_bond=max_bond, cutoff=cutoff, dtype=dtype), jnp.log(norm)


def encode_matrix(x, row_qubits: int, col_qubits: int, **kwargs):
    """Amplitude-encode a matrix ``x [rows, cols]`` on (row register, column register)."""
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"encode_matrix takes a 2-d array, got shape {x.shape}")
    if x.shape[0] > 2**row_qubits or x.shape[1] > 2**col_qubits:
        raise ValueError(f"matrix of shape {x.shape} does not fit registers of "
                         f"{row_qubits} x {col_qubits} qubits")
    padded = jnp.pad(x, ((0, 2**row_qubits - x.shape[0]), (0, 2**col_qubits - x.shape[1])))
    return amplitude_encode(padded.reshape(-1), row_qubits + col_qubits, **kwargs)
