"""OpenQASM 3 gates as qtnet sees them: stdgates.inc with exact matrices, and the modifiers.

A gate call becomes a list of :class:`Elem` (a one-qubit unitary, perhaps controlled) and
:class:`Named` (a two-qubit qtnet gate kept whole). ``inv``, ``pow`` and ``ctrl`` act on such
lists; :func:`lower` turns a gate with several controls into one- and two-qubit gates
(Barenco et al. 1995, Lemma 7.5: C^k(U) from controlled square roots of U and C^{k-1}(X)).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from qtnet.circuits.qasm_syntax import QasmError
from qtnet.tn.gates import gate_matrix

Controls = tuple[tuple[int, bool], ...]


@dataclasses.dataclass(frozen=True)
class Elem:
    """A one-qubit unitary ``u`` on ``target``, applied when every ``controls`` qubit holds
    the given bit; ``target`` None is a global phase (``u`` is 1x1). ``label`` is the qtnet
    gate (name, parameters) it equals up to a global phase, kept until a modifier acts."""

    u: np.ndarray
    target: int | None
    controls: Controls = ()
    label: tuple[str, tuple] | None = None


@dataclasses.dataclass(frozen=True)
class Named:
    """A two-qubit qtnet gate kept whole unless a modifier needs its ``parts``."""

    name: str
    params: tuple
    qubits: tuple[int, ...]
    parts: tuple[Elem, ...]


def qtnet_matrix(name: str, params=()) -> np.ndarray:
    """qtnet's matrix of a named gate (at JAX's precision: complex128 only in x64 mode)."""
    return np.asarray(gate_matrix(name, tuple(params)), np.complex128)


def one_qubit(name: str, params: tuple, q: int, phase: float = 0.0) -> Elem:
    return Elem(np.exp(1j * phase) * qtnet_matrix(name, params), q, (), (name, params))


def controlled(base: Elem, control: int) -> Elem:
    return dataclasses.replace(base, controls=((control, True), *base.controls))


def cx(a: int, b: int) -> Elem:
    return controlled(one_qubit("X", (), b), a)


def rz_part(theta: float, q: int) -> Elem:
    return one_qubit("RZ", (theta,), q)


# stdgates.inc: name -> (parameter count, qubit count, builder(params, qubits) -> items).
def _std_1q(name, phase=None):
    return lambda p, q: [one_qubit(name, p, q[0], phase(p) if phase else 0.0)]


def _std_c1q(name):
    return lambda p, q: [controlled(one_qubit(name, p, q[1]), q[0])]


STDGATES = {
    "id": (0, 1, _std_1q("I")), "x": (0, 1, _std_1q("X")), "y": (0, 1, _std_1q("Y")),
    "z": (0, 1, _std_1q("Z")), "h": (0, 1, _std_1q("H")), "s": (0, 1, _std_1q("S")),
    "sdg": (0, 1, _std_1q("SDG")), "t": (0, 1, _std_1q("T")), "tdg": (0, 1, _std_1q("TDG")),
    "sx": (0, 1, _std_1q("SX")), "rx": (1, 1, _std_1q("RX")), "ry": (1, 1, _std_1q("RY")),
    "rz": (1, 1, _std_1q("RZ")), "p": (1, 1, _std_1q("P")), "phase": (1, 1, _std_1q("P")),
    "u1": (1, 1, _std_1q("U1")),
    "u2": (2, 1, lambda p, q: [one_qubit("U3", (math.pi / 2, *p), q[0], -(p[0] + p[1]) / 2)]),
    "u3": (3, 1, _std_1q("U3", lambda p: -(p[1] + p[2]) / 2)),
    "cx": (0, 2, _std_c1q("X")), "CX": (0, 2, _std_c1q("X")), "cy": (0, 2, _std_c1q("Y")),
    "cz": (0, 2, _std_c1q("Z")), "cp": (1, 2, _std_c1q("P")), "cphase": (1, 2, _std_c1q("P")),
    "crx": (1, 2, _std_c1q("RX")), "cry": (1, 2, _std_c1q("RY")),
    "crz": (1, 2, _std_c1q("RZ")), "ch": (0, 2, _std_c1q("H")),
    "cu": (4, 2, lambda p, q: [one_qubit("P", (p[3],), q[0]),
                               controlled(one_qubit("U3", p[:3], q[1]), q[0])]),
    "swap": (0, 2, lambda p, q: [Named("SWAP", (), tuple(q),
                                       (cx(q[0], q[1]), cx(q[1], q[0]), cx(q[0], q[1])))]),
    "ccx": (0, 3, lambda p, q: [controlled(controlled(one_qubit("X", (), q[2]), q[1]), q[0])]),
    "cswap": (0, 3, lambda p, q: [controlled(e, q[0]) for e in (cx(q[2], q[1]),
                                                                 cx(q[1], q[2]),
                                                                 cx(q[2], q[1]))]),
}
# Not in stdgates.inc, but in Qiskit's and qelib1's vocabulary; a program's own definition of
# one of these names wins.
EXTRA_GATES = {
    "sxdg": (0, 1, _std_1q("SXDG")), "csx": (0, 2, _std_c1q("SX")),
    "cu1": (1, 2, _std_c1q("U1")), "cu3": (3, 2, _std_c1q("U3")),
    "rzz": (1, 2, lambda p, q: [Named("RZZ", tuple(p), tuple(q),
                                      (cx(q[0], q[1]), rz_part(p[0], q[1]), cx(q[0], q[1])))]),
    "rxx": (1, 2, lambda p, q: [Named("RXX", tuple(p), tuple(q), (
        one_qubit("H", (), q[0]), one_qubit("H", (), q[1]), cx(q[0], q[1]),
        rz_part(p[0], q[1]), cx(q[0], q[1]), one_qubit("H", (), q[0]),
        one_qubit("H", (), q[1])))]),
}
BUILTIN = {
    "U": (3, 1, _std_1q("U3")),
    "gphase": (1, 0, lambda p, q: [Elem(np.array([[np.exp(1j * p[0])]]), None)]),
}
def principal_power(u: np.ndarray, k: float) -> np.ndarray:
    """``u**k`` on the principal branch (eigenphases in (-pi, pi]) of a unitary ``u``."""
    vals, vecs = np.linalg.eig(u)
    phases = np.angle(vals)
    phases[phases <= -np.pi + 1e-12] = np.pi
    return vecs @ np.diag(np.exp(1j * k * phases)) @ np.linalg.inv(vecs)


def elems(items) -> list[Elem]:
    out = []
    for it in items:
        out.extend(it.parts if isinstance(it, Named) else [it])
    return out


def invert(items) -> list:
    return [dataclasses.replace(e, u=e.u.conj().T, label=None) for e in reversed(elems(items))]


def power(items, k: float, line: int) -> list:
    if float(k).is_integer():
        k = int(k)
        return (invert(items) if k < 0 else list(items)) * abs(k)
    parts = elems(items)
    gates = [e for e in parts if e.target is not None]
    phases = [e for e in parts if e.target is None]
    if not gates or any((e.target, e.controls) != (gates[0].target, gates[0].controls)
                        for e in gates) or (phases and gates[0].controls):
        raise QasmError(f"line {line}: pow({k:g}) with a non-integer power needs a gate that "
                        "is one (controlled) one-qubit unitary")
    u = np.eye(2, dtype=complex)
    for e in parts:
        u = (e.u[0, 0] * u) if e.target is None else e.u @ u
    return [Elem(principal_power(u, k), gates[0].target, gates[0].controls)]


def add_controls(items, controls: Controls) -> list:
    out = []
    for e in elems(items):
        if e.target is None:        # a global phase becomes a phase on the last control
            (*rest, (c, on)) = (*controls, *e.controls)
            phase = e.u[0, 0]
            out.append(Elem(np.diag([1, phase] if on else [phase, 1]), c, tuple(rest)))
        else:
            out.append(dataclasses.replace(e, controls=(*controls, *e.controls)))
    return out


def lower(e: Elem) -> list[Elem]:
    """One- and two-qubit Elems (at most one control each) equal to ``e``."""
    if len(e.controls) <= 1 or e.target is None:
        return [e]
    flips = [one_qubit("X", (), c) for c, on in e.controls if not on]
    controls = tuple(c for c, _ in e.controls)
    *first, last = controls
    v = principal_power(e.u, 0.5)
    cnot_k = Elem(qtnet_matrix("X"), last, tuple((c, True) for c in first))
    steps = [Elem(v, e.target, ((last, True),)), cnot_k,
             Elem(v.conj().T, e.target, ((last, True),)), cnot_k,
             Elem(v, e.target, tuple((c, True) for c in first))]
    return flips + [low for s in steps for low in lower(s)] + flips


CONTROLLED_NAMES = {"X": "CNOT", "Y": "CY", "Z": "CZ", "H": "CH", "SX": "CSX", "RX": "CRX",
                    "RY": "CRY", "RZ": "CRZ", "P": "CP", "U1": "CU1", "U3": "CU3"}
