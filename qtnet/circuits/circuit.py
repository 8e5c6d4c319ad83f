"""Gate-list circuits that run on either backend: ``Circuit(n).h(0).cnot(0, 1)...``.

Qubit 0 is site 0 of the MPS, the most significant bit of a dense index. A circuit is a
plain list of operations; gate parameters may be JAX tracers, so a function that builds a
circuit from its arguments can be jitted and differentiated (see :func:`expectation`).

Truncation: ``cutoff=None`` (the default) drops Schmidt values of relative weight at most
:func:`default_cutoff` (numerically zero: ``eps^1.5`` of the dtype), so a circuit that makes
little entanglement keeps a small bond; the weight dropped is in the result's fidelity
estimate. Pass ``cutoff=0.0`` to keep every value. A circuit whose parameters are being traced
(differentiated) uses 0: the zero Schmidt values carry the directions its gradient needs.

A circuit keeps its compiled program and the last state it ran: another observable on the
same circuit (same backend, bond cap, cutoff and dtype) reads that state again.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import backends
from qtnet.tn.backends.tn import cheaper_than_statevector
from qtnet.tn.gates import gate_arity, gate_matrix
from qtnet.tn.mps import default_dtype
from qtnet.tn.program import GateProgram, bond_cap_for, compile_program

MATRIX_CACHE_SIZE = 65536
_MATRICES: dict = {}        # (name, parameter values, dtype) -> numpy matrix

AUTO = "auto"
"""The circuit-level choice: dense up to ``AUTO_DENSE_MAX_QUBITS`` qubits, MPS above."""
AUTO_DENSE_MAX_QUBITS = 20
AUTO_NETWORK_MAX_GATES = 4096   # above, auto does not spend a path search on the network
BACKENDS = (*backends.names(), AUTO)


@dataclasses.dataclass(frozen=True)
class Operation:
    name: str
    qubits: tuple[int, ...]
    params: tuple[Any, ...] = ()
    matrix: Any = None          # set for custom unitaries


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    value: float
    fidelity_estimate: float
    max_bond_used: int | None
    bond_cap: int
    backend: str
    n_qubits: int
    n_gates: int
    seconds: float
    cutoff: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _concrete_values(params):
    """The parameters as a hashable tuple of floats, or None if one of them is traced."""
    if all(type(p) in (float, int) for p in params):            # fast path: QASM angles
        return tuple((float(p),) for p in params)
    if any(isinstance(p, jax.core.Tracer) for p in params):
        return None
    return tuple(tuple(np.asarray(p, np.float64).ravel().tolist()) for p in params)


def named_matrix(name: str, params, dtype):
    """The matrix of a named gate; concrete ones come from a cache (circuits repeat gates)."""
    params = tuple(params)
    try:                                # plain floats (QASM angles): a key as they are
        return _MATRICES[(name, params, dtype)]
    except (KeyError, TypeError):       # not cached yet, or unhashable (arrays, tracers)
        pass
    key = _concrete_values(params)
    if key is None:
        return gate_matrix(name, params[0] if name.upper() == "SU4" and params else params,
                           dtype)
    key = (name.upper(), key, dtype)
    if key not in _MATRICES:
        if len(_MATRICES) >= MATRIX_CACHE_SIZE:
            _MATRICES.clear()
        arg = params[0] if name.upper() == "SU4" and params else params
        _MATRICES[key] = gate_matrix(name, arg, np.dtype(dtype), xp=np)
    if all(type(p) is float for p in params):
        _MATRICES[(name, params, dtype)] = _MATRICES[key]
    return _MATRICES[key]


class Circuit:
    """An ordered list of gates on ``n_qubits`` qubits."""

    def __init__(self, n_qubits: int):
        if int(n_qubits) < 1:
            raise ValueError(f"a circuit needs at least one qubit, got {n_qubits}")
        self.n_qubits = int(n_qubits)
        self.ops: list[Operation] = []
        self._programs: dict = {}           # dtype -> (ops it was built from, GateProgram)
        self._states: dict = {}             # run settings -> (ops, state)

    def __repr__(self) -> str:
        return f"Circuit(n_qubits={self.n_qubits}, n_gates={len(self.ops)})"

    def __len__(self) -> int:
        return len(self.ops)

    def _check_qubits(self, qubits, what):
        for q in qubits:
            if not (isinstance(q, (int, np.integer)) and 0 <= q < self.n_qubits):
                raise ValueError(f"{what}: qubit {q!r} out of range 0..{self.n_qubits - 1}")
        if len(set(qubits)) != len(qubits):
            raise ValueError(f"{what}: qubits must be distinct, got {tuple(qubits)}")

    def apply(self, name: str, *qubits: int, params=()) -> Circuit:
        """Append the named gate (see :func:`qtnet.tn.gates.known_gates`)."""
        arity = gate_arity(name)
        if len(qubits) != arity:
            raise ValueError(f"gate {name} acts on {arity} qubit(s), got {len(qubits)}")
        self._check_qubits(qubits, f"gate {name}")
        named_matrix(name, tuple(params), default_dtype())  # validates the parameter count now
        self.ops.append(Operation(name.upper(), tuple(int(q) for q in qubits), tuple(params)))
        return self

    def unitary(self, matrix, *qubits: int, name: str = "UNITARY") -> Circuit:
        """Append an arbitrary one- or two-qubit unitary matrix."""
        matrix = jnp.asarray(matrix)
        if len(qubits) not in (1, 2) or matrix.shape != (2 ** len(qubits),) * 2:
            raise ValueError(f"unitary on qubits {qubits}: matrix shape {matrix.shape} does not "
                             f"fit; one or two qubits are supported")
        self._check_qubits(qubits, name)
        self.ops.append(Operation(name, tuple(int(q) for q in qubits), (), matrix))
        return self

    # Named-gate shorthands.
    def h(self, q): return self.apply("H", q)
    def x(self, q): return self.apply("X", q)
    def y(self, q): return self.apply("Y", q)
    def z(self, q): return self.apply("Z", q)
    def s(self, q): return self.apply("S", q)
    def t(self, q): return self.apply("T", q)
    def rx(self, q, theta): return self.apply("RX", q, params=(theta,))
    def ry(self, q, theta): return self.apply("RY", q, params=(theta,))
    def rz(self, q, theta): return self.apply("RZ", q, params=(theta,))
    def cnot(self, c, t): return self.apply("CNOT", c, t)
    def cz(self, a, b): return self.apply("CZ", a, b)
    def swap(self, a, b): return self.apply("SWAP", a, b)
    def su4(self, a, b, params): return self.apply("SU4", a, b, params=(params,))

    def matrices(self, dtype=None):
        """``[(matrix, qubits), ...]`` for every operation."""
        dtype = dtype or default_dtype()
        out = []
        for op in self.ops:
            m = op.matrix if op.matrix is not None else named_matrix(op.name, op.params, dtype)
            out.append((m, op.qubits))
        return out

    def _unchanged(self, ops) -> bool:
        return len(ops) == len(self.ops) and all(a is b for a, b in zip(ops, self.ops))

    def program(self, dtype=None) -> GateProgram:
        """The compiled program (fused, routed); kept while the gate list is unchanged."""
        dtype = jnp.dtype(dtype or default_dtype())
        ops, prog = self._programs.get(dtype, (None, None))
        if ops is not None and self._unchanged(ops):
            return prog
        prog = compile_program(self.matrices(dtype), self.n_qubits, dtype=dtype)
        if not prog.traced:
            self._programs[dtype] = (list(self.ops), prog)
        return prog

    def expectation(self, observable, backend: str = "mps", max_bond: int | None = None,
                    cutoff: float | None = None) -> float:
        """``<0|C^dagger O C|0>`` for a Pauli string or a list of ``(coefficient, string)``."""
        return float(expectation(self, observable, backend=backend, max_bond=max_bond,
                                 cutoff=cutoff))

    def simulate(self, observable, backend: str = "mps", max_bond: int | None = None,
                 cutoff: float | None = None) -> SimulationResult:
        """Expectation plus what the run cost: fidelity estimate, bond used, wall time."""
        start = time.perf_counter()
        backend = backend_for(self, backend, observable)
        state, backend_used = run(self, backend=backend, max_bond=max_bond, cutoff=cutoff)
        used = backends.get(backend_used)
        value = float(jax.block_until_ready(used.expectation_pauli(state, observable)))
        seconds = time.perf_counter() - start
        return SimulationResult(value, float(used.fidelity(state)), state.max_bond_used(),
                                state.bond_cap, used.name, self.n_qubits, len(self.ops),
                                seconds, resolve_cutoff(cutoff, state.dtype))


def backend_for(circuit: Circuit, backend: str | backends.Backend, observable):
    """``backend``, with ``auto`` resolved for this circuit and observable. Above
    ``AUTO_DENSE_MAX_QUBITS`` qubits, a concrete circuit of at most ``AUTO_NETWORK_MAX_GATES``
    gates (the rule searches a contraction path) runs on the exact network (``tn``) where
    contracting it costs fewer multiply-adds than a statevector run and no intermediate
    outgrows the statevector limit; otherwise :func:`resolve_backend` decides. (Below, the
    host statevector needs no compile, which the network's contraction does.)"""
    if backend != AUTO:
        return backend
    prog = circuit.program()
    if (circuit.n_qubits > AUTO_DENSE_MAX_QUBITS and not prog.traced
            and len(prog.sites) <= AUTO_NETWORK_MAX_GATES
            and cheaper_than_statevector(prog, circuit.n_qubits, observable)):
        return "tn"
    return resolve_backend(backend, circuit.n_qubits)


def resolve_backend(backend: str | backends.Backend, n_qubits: int) -> str:
    """The backend name to run on: ``auto`` picks dense up to 20 qubits, MPS above."""
    if backend == AUTO:
        return "dense" if n_qubits <= AUTO_DENSE_MAX_QUBITS else "mps"
    if isinstance(backend, str) and backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backends.get(backend).name


def default_cutoff(dtype) -> float:
    """Relative Schmidt weight at or below which circuit simulation drops a value:
    ``eps^1.5`` of the dtype (3e-24 in complex128, 4e-11 in complex64), i.e. Schmidt values
    below ``eps^0.75`` of the norm, which are rounding noise."""
    return float(np.finfo(jnp.finfo(dtype).dtype).eps) ** 1.5


def resolve_cutoff(cutoff: float | None, dtype, traced: bool = False) -> float:
    """The cutoff a run uses: ``cutoff``, or by default :func:`default_cutoff` (0 if traced)."""
    if cutoff is None:
        return 0.0 if traced else default_cutoff(dtype)
    if not cutoff >= 0:
        raise ValueError(f"cutoff must be >= 0, got {cutoff}")
    return float(cutoff)


def run(circuit: Circuit, backend: str = "mps", max_bond: int | None = None,
        cutoff: float | None = None, dtype=None):
    """Simulate from |0...0>; returns ``(state, name of the backend used)``.

    An untraced circuit keeps its last state per settings, so a second call with the same
    settings and an unchanged gate list returns it without running again.
    """
    name = resolve_backend(backend, circuit.n_qubits)
    if cutoff is not None and not cutoff >= 0:
        raise ValueError(f"cutoff must be >= 0, got {cutoff}")
    backends.get(name).check_sites(circuit.n_qubits)     # before planning the program
    dtype = jnp.dtype(dtype or default_dtype())
    prog = circuit.program(dtype)
    cutoff = resolve_cutoff(cutoff, dtype, prog.traced)
    key = (name, max_bond, cutoff, dtype)
    ops, state = circuit._states.get(key, (None, None))
    if ops is not None and circuit._unchanged(ops):
        return state, name
    net = backends.get(name)
    state = net.zero_state_for(prog, circuit.n_qubits, max_bond=max_bond, dtype=dtype)
    state = net.apply_program(state, prog, max_bond=bond_cap_for(prog, max_bond, circuit.n_qubits),
                              cutoff=cutoff)
    if not prog.traced and not isinstance(jax.tree_util.tree_leaves(state)[0], jax.core.Tracer):
        circuit._states = {key: (list(circuit.ops), state)}     # the last run only
    return state, name


def expectation(circuit: Circuit, observable, backend: str = "mps", max_bond: int | None = None,
                cutoff: float | None = None):
    """Differentiable expectation value (a JAX scalar); gate parameters may be traced."""
    backend = backend_for(circuit, backend, observable)
    state, name = run(circuit, backend=backend, max_bond=max_bond, cutoff=cutoff)
    return backends.get(name).expectation_pauli(state, observable)
