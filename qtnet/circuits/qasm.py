"""OpenQASM import: 2.0 here (the qelib1 gate set and user ``gate`` definitions into a
Circuit), 3 in :mod:`qtnet.circuits.qasm3`; :func:`from_qasm` reads the header.

Supported: ``qreg``/``creg`` (several registers are laid out in declaration order),
``include "qelib1.inc"``, every qelib1 gate on one or two qubits, ``ccx`` and ``cswap`` (by
their qelib1 decompositions), ``gate`` definitions (expanded), register broadcasting,
``barrier`` (ignored) and final ``measure`` (ignored: expectations are computed exactly).
Refused with a ValueError naming the line: ``opaque``, ``reset``, ``if``, a gate after a
measurement of its qubit, gates on more than two qubits other than ccx/cswap.
"""

from __future__ import annotations

import math
import re

from qtnet.circuits.circuit import Circuit
from qtnet.circuits.qasm3 import from_qasm3
from qtnet.circuits.qasm_syntax import (QasmError, check_arity, evaluate_expression, split_args,
                                        split_statements)

__all__ = ["QasmError", "evaluate_expression", "from_qasm", "from_qasm_file"]

_BUILTIN_1Q = {
    "id": ("I", 0), "u0": ("I", 1), "x": ("X", 0), "y": ("Y", 0), "z": ("Z", 0),
    "h": ("H", 0), "s": ("S", 0), "sdg": ("SDG", 0), "t": ("T", 0), "tdg": ("TDG", 0),
    "sx": ("SX", 0), "sxdg": ("SXDG", 0), "rx": ("RX", 1), "ry": ("RY", 1), "rz": ("RZ", 1),
    "u1": ("U1", 1), "p": ("P", 1), "u3": ("U3", 3), "u": ("U3", 3), "U": ("U3", 3),
}
_BUILTIN_2Q = {
    "cx": ("CNOT", 0), "CX": ("CNOT", 0), "cz": ("CZ", 0), "cy": ("CY", 0),
    "swap": ("SWAP", 0), "rzz": ("RZZ", 1), "rxx": ("RXX", 1),
}
# Controlled versions of one-qubit gates: name -> (target gate, parameter count).
_CONTROLLED = {
    "ch": ("H", 0), "crx": ("RX", 1), "cry": ("RY", 1), "crz": ("RZ", 1), "cu1": ("U1", 1),
    "cp": ("P", 1), "cu3": ("U3", 3), "csx": ("SX", 0),
}
# Three-qubit gates by their qelib1 definitions.
_DECOMPOSED = {
    "ccx": (("a", "b", "c"), """h c; cx b,c; tdg c; cx a,c; t c; cx b,c; tdg c; cx a,c;
            t b; t c; h c; cx a,b; t a; tdg b; cx a,b;"""),
    "cswap": (("a", "b", "c"), "cx c,b; ccx a,b,c; cx c,b;"),
}

# Sizes no simulation here can use; a program beyond them is refused before it is expanded.
MAX_QUBITS = 1_000_000
MAX_GATES = 10_000_000


_STATEMENT = re.compile(r"^([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*(.*)$", re.S)
_OPERAND = re.compile(r"^([A-Za-z_]\w*)\s*(?:\[\s*(\d+)\s*\])?$")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.registers: dict[str, tuple[int, int]] = {}   # name -> (offset, size)
        self.cregs: set[str] = set()
        self.user_gates: dict[str, tuple[list[str], list[str], str]] = {}
        self.gate_cost: dict[str, int] = {"ccx": 15, "cswap": 17}   # gates a call expands to
        self.ops: list[tuple[str, tuple[float, ...], tuple[int, ...], int]] = []
        self.measured: set[int] = set()
        self.n_qubits = 0
        # Statement text -> the ops it expanded to: circuits repeat statements (Grover's
        # "cx q[0],q[3];"); emptied by whatever could change an expansion (qreg, gate, measure).
        self.expanded: dict[str, list] = {}

    def parse(self) -> Circuit:
        stmts = split_statements(self.text)
        if not stmts or not re.match(r"^OPENQASM\s+2(\.0)?$", stmts[0][1]):
            raise QasmError("line 1: a program must start with 'OPENQASM 2.0;' "
                            "or 'OPENQASM 3;'")
        for line, stmt in stmts[1:]:
            self.statement(line, stmt)
        if self.n_qubits == 0:
            raise QasmError("the program declares no qreg")
        circuit = Circuit(self.n_qubits)
        for name, params, qubits, line in self.ops:
            try:
                circuit.apply(name, *qubits, params=params)
            except ValueError as err:
                raise QasmError(f"line {line}: {err}") from None
        return circuit

    def statement(self, line: int, stmt: str) -> None:
        done = self.expanded.get(stmt)
        if done is not None:
            if len(self.ops) + len(done) > MAX_GATES:
                self.gate_call(line, stmt, {}, None)            # raises the limit's error
            self.ops.extend(done)
            return
        lead = re.match(r"[A-Za-z_]\w*", stmt)
        word = lead.group(0) if lead else ""
        if word in ("qreg", "gate", "measure"):
            self.expanded.clear()
        if word == "include":
            if not re.match(r'^include\s+"qelib1\.inc"$', stmt):
                raise QasmError(f"line {line}: only 'include \"qelib1.inc\";' is supported")
        elif word in ("qreg", "creg"):
            m = re.match(r"^[qc]reg\s+([A-Za-z_]\w*)\s*\[\s*(\d+)\s*\]$", stmt)
            if not m:
                raise QasmError(f"line {line}: malformed register declaration {stmt!r}")
            name, size = m.group(1), int(m.group(2))
            if name in self.registers or name in self.cregs:
                raise QasmError(f"line {line}: register {name!r} declared twice")
            if word == "qreg":
                if size < 1:
                    raise QasmError(f"line {line}: qreg {name} must have at least one qubit")
                if self.n_qubits + size > MAX_QUBITS:
                    raise QasmError(f"line {line}: qreg {name} has {size} qubits; the limit is "
                                    f"{MAX_QUBITS} qubits in all")
                self.registers[name] = (self.n_qubits, size)
                self.n_qubits += size
            else:
                self.cregs.add(name)
        elif word == "gate":
            self.define_gate(line, stmt)
        elif word == "barrier":
            return
        elif word == "measure":
            m = re.match(r"^measure\s+(.+?)\s*->\s*(.+)$", stmt)
            if not m:
                raise QasmError(f"line {line}: malformed measure {stmt!r}")
            for group in self.operands(line, [m.group(1)]):
                self.measured.update(group)
        elif word in ("opaque", "reset", "if"):
            raise QasmError(f"line {line}: '{word}' is not supported by qtnet's QASM import")
        else:
            start = len(self.ops)
            self.gate_call(line, stmt, {}, None)
            self.expanded[stmt] = self.ops[start:]

    def define_gate(self, line: int, stmt: str) -> None:
        m = re.match(r"^gate\s+([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?\s*([^{]*)\{(.*)\}$", stmt, re.S)
        if not m:
            raise QasmError(f"line {line}: malformed gate definition")
        name = m.group(1)
        params = [p.strip() for p in (m.group(2) or "").split(",") if p.strip()]
        args = [a.strip() for a in m.group(3).split(",") if a.strip()]
        if not args:
            raise QasmError(f"line {line}: gate {name!r} has no qubit arguments")
        cost = 0
        for stmt in (t.strip() for t in m.group(4).split(";")):
            called = _STATEMENT.match(stmt)
            if not stmt or stmt.startswith("barrier") or not called:
                continue
            inner = called.group(1)
            known = (inner in self.gate_cost or inner in _BUILTIN_1Q or inner in _BUILTIN_2Q
                     or inner in _CONTROLLED or inner == "u2")
            if inner == name or not known:
                raise QasmError(f"line {line}: gate {name!r} uses {inner!r} before it is "
                                f"defined (a gate body may call only earlier gates)")
            cost += self.gate_cost.get(inner, 1)
        self.user_gates[name] = (params, args, m.group(4))
        self.gate_cost[name] = cost

    def operands(self, line: int, texts: list[str]) -> list[list[int]]:
        groups = []
        for t in texts:
            m = _OPERAND.match(t.strip())
            if not m or m.group(1) not in self.registers:
                raise QasmError(f"line {line}: unknown qubit operand {t.strip()!r}")
            offset, size = self.registers[m.group(1)]
            if m.group(2) is None:
                groups.append([offset + k for k in range(size)])
            else:
                k = int(m.group(2))
                if k >= size:
                    raise QasmError(f"line {line}: {t.strip()} is out of range "
                                    f"(register {m.group(1)} has {size} qubits)")
                groups.append([offset + k])
        return groups

    def gate_call(self, line: int, stmt: str, env: dict, local_qubits: dict | None) -> None:
        m = _STATEMENT.match(stmt)
        if not m:
            raise QasmError(f"line {line}: cannot parse statement {stmt!r}")
        name, ptext, atext = m.group(1), m.group(2), m.group(3)
        try:
            params = tuple(evaluate_expression(p, env) for p in split_args(ptext or ""))
        except QasmError as err:
            raise QasmError(f"line {line}: {err}") from None
        arg_texts = split_args(atext)
        if not arg_texts:
            raise QasmError(f"line {line}: gate {name!r} is given no qubits")
        if local_qubits is None:
            groups = self.operands(line, arg_texts)
        else:
            try:
                groups = [[local_qubits[a]] for a in arg_texts]
            except KeyError as err:
                raise QasmError(
                    f"line {line}: unknown qubit {err.args[0]!r} in gate body") from None
        width = max(len(g) for g in groups)
        if any(len(g) not in (1, width) for g in groups):
            raise QasmError(f"line {line}: registers of different sizes in {stmt!r}")
        if local_qubits is None and len(self.ops) + width * self.gate_cost.get(name, 1) \
                > MAX_GATES:
            raise QasmError(f"line {line}: the program expands to more than {MAX_GATES} "
                            f"gates; the limit is {MAX_GATES}")
        for k in range(width):
            qubits = tuple(g[0] if len(g) == 1 else g[k] for g in groups)
            self.emit(line, name, params, qubits)

    def emit(self, line: int, name: str, params: tuple, qubits: tuple[int, ...]) -> None:
        if len(set(qubits)) != len(qubits):
            raise QasmError(f"line {line}: gate {name} repeats a qubit {qubits}")
        if self.measured.intersection(qubits):
            raise QasmError(f"line {line}: gate {name} acts on a measured qubit; "
                            "mid-circuit measurement is not supported")
        if name in self.user_gates or name in _DECOMPOSED:
            if name in self.user_gates:
                pnames, anames, body = self.user_gates[name]
            else:
                (anames, body), pnames = _DECOMPOSED[name], []
            check_arity(line, name, len(pnames), params, len(anames), qubits)
            env = dict(zip(pnames, params))
            local = dict(zip(anames, qubits))
            for stmt in (s.strip() for s in body.split(";")):
                if stmt and not stmt.startswith("barrier"):
                    self.gate_call(line, stmt, env, local)
            return
        if name in _BUILTIN_1Q:
            gate, count = _BUILTIN_1Q[name]
            check_arity(line, name, count, params, 1, qubits)
            self.ops.append((gate, () if name == "u0" else params, qubits, line))
        elif name in _BUILTIN_2Q:
            gate, count = _BUILTIN_2Q[name]
            check_arity(line, name, count, params, 2, qubits)
            self.ops.append((gate, params, qubits, line))
        elif name in _CONTROLLED:
            gate, count = _CONTROLLED[name]
            check_arity(line, name, count, params, 2, qubits)
            self.ops.append(("C" + gate, params, qubits, line))
        elif name == "u2":
            check_arity(line, name, 2, params, 1, qubits)
            self.ops.append(("U3", (math.pi / 2, *params), qubits, line))
        else:
            raise QasmError(f"line {line}: unsupported or undefined gate {name!r}")


_QASM3_HEADER = re.compile(r"(?:\s|//[^\n]*|/\*.*?\*/)*OPENQASM\s+3(\.\d+)?\s*;", re.S)
"""The first statement, after comments: ``OPENQASM 3;`` (matched, not split: the whole
program would be split twice)."""


def from_qasm(text: str) -> Circuit:
    """Parse an OpenQASM 2.0 or 3 program (told apart by its ``OPENQASM`` header) into a
    :class:`Circuit` (raises :class:`QasmError`)."""
    if not isinstance(text, str):
        raise QasmError(f"from_qasm expects the program text, got {type(text).__name__}")
    if _QASM3_HEADER.match(text):
        return from_qasm3(text)
    return _Parser(text).parse()


def from_qasm_file(path) -> Circuit:
    with open(path) as f:
        return from_qasm(f.read())
