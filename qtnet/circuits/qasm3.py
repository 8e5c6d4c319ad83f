"""OpenQASM 3 import: the gate subset qtnet simulates, into a Circuit.

Supported: ``include "stdgates.inc"`` (its gates with their exact matrices, global phases
included, so that a controlled gate means what the standard library says), ``U`` and
``gphase``, ``qubit[n]`` / ``qubit`` / ``qreg`` and ``bit[n]`` / ``bit`` / ``creg``
declarations, physical qubits ``$k``, indices ``q[i]`` (negative from the end), ranges
``q[a:b]`` (inclusive), ``const`` scalars, parameters as expressions (``pi``/``π``, ``tau``,
``euler``, ``**``, sin ... sqrt), ``gate`` definitions, the modifiers ``ctrl @`` /
``negctrl @`` / ``ctrl(n) @``, ``inv @`` and ``pow(k) @`` (integer ``k`` on any gate,
any ``k`` on a gate that is one one-qubit unitary, perhaps controlled), ``barrier`` and final
measurement (``c = measure q;``, ``measure q -> c;``, ``measure q;``).

Gates and modifiers: :mod:`qtnet.circuits.qasm3_gates` (a gate with several controls is
lowered to one- and two-qubit gates). Refused with a :class:`QasmError` naming the line:
classical control flow, ``reset``, timing (``delay``, ``box``, durations), subroutines,
``input`` parameters, aliases, and any gate on a measured qubit (mid-circuit measurement).
"""

from __future__ import annotations

import math
import re

import numpy as np

from qtnet.circuits.circuit import Circuit
from qtnet.circuits.qasm3_gates import (BUILTIN, CONTROLLED_NAMES, EXTRA_GATES, STDGATES,
                                        Named, add_controls, invert, lower, power,
                                        qtnet_matrix)
from qtnet.circuits.qasm_syntax import (QasmError, check_arity, evaluate_expression,
                                        split_statements)

UNSUPPORTED = {
    "if": "classical control flow", "else": "classical control flow",
    "while": "classical control flow", "for": "classical control flow",
    "switch": "classical control flow", "break": "classical control flow",
    "continue": "classical control flow", "end": "classical control flow",
    "reset": "reset", "delay": "timing", "box": "timing", "stretch": "timing",
    "duration": "timing", "def": "subroutines", "return": "subroutines",
    "extern": "extern functions", "defcal": "calibrations", "cal": "calibrations",
    "defcalgrammar": "calibrations", "let": "aliases", "output": "output variables",
    "opaque": "opaque gates",
}
CLASSICAL_TYPES = ("float", "angle", "int", "uint", "bool", "complex")
MODIFIER = re.compile(r"^(inv|pow|ctrl|negctrl)\b\s*")
CALL = re.compile(r"^([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*(.*)$", re.S)
INDEX = re.compile(r"^(\$\d+|[A-Za-z_]\w*)\s*(?:\[\s*([^\]]+?)\s*\])?$")
IDENT = r"[A-Za-z_]\w*"
SYMBOLS = {"π": "pi", "τ": "tau", "ℇ": "euler"}
RENAMED = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "log": "ln"}


def expression(text: str, env: dict[str, float], line: int) -> float:
    """A QASM 3 expression (``**`` is the power; ``^`` is XOR and refused)."""
    if "^" in text:
        raise QasmError(f"line {line}: '^' is XOR in OpenQASM 3; write a power as '**'")
    for sym, word in SYMBOLS.items():
        text = text.replace(sym, f" {word} ")
    for fn, known in RENAMED.items():
        text = re.sub(rf"\b{fn}\b", known, text)
    text = re.sub(r"(?<=\d)_(?=\d)", "", text)
    try:
        return evaluate_expression(text, {"tau": 2 * math.pi, "euler": math.e, **env})
    except QasmError as err:
        raise QasmError(f"line {line}: {err}") from None


def split_top(text: str) -> list[str]:
    """Split on commas outside parentheses and brackets."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [*out, cur.strip()] if cur.strip() else out


def closing_paren(text: str, line: int) -> int:
    """Index of the ')' that closes the '(' at ``text[0]``."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return i
    raise QasmError(f"line {line}: unbalanced parentheses in {text!r}")


class Qasm3Parser:
    def __init__(self, text: str):
        self.text = text
        self.registers: dict[str, tuple[int, int]] = {}     # qubit registers: (offset, size)
        self.bits: set[str] = set()
        self.consts: dict[str, float] = {}
        self.user_gates: dict[str, tuple[list[str], list[str], str, int]] = {}
        self.stdgates = False
        self.physical: set[int] = set()
        self.n_qubits = 0
        self.items: list[tuple[object, int]] = []
        self.measured: set[int] = set()

    def parse(self) -> Circuit:
        stmts = split_statements(self.text)
        if not stmts or not re.match(r"^OPENQASM\s+3(\.\d+)?$", stmts[0][1]):
            raise QasmError("line 1: an OpenQASM 3 program starts with 'OPENQASM 3;'")
        for line, stmt in stmts[1:]:
            self.statement(line, stmt)
        if self.physical and self.registers:
            raise QasmError("a program uses both declared and physical ($k) qubits")
        n = max(self.physical) + 1 if self.physical else self.n_qubits
        if n == 0:
            raise QasmError("the program declares no qubits")
        circuit = Circuit(n)
        for item, line in self.items:
            try:
                self.emit(circuit, item)
            except ValueError as err:
                raise QasmError(f"line {line}: {err}") from None
        return circuit

    def statement(self, line: int, stmt: str) -> None:
        head = re.match(r"^([#@]?[A-Za-z_]\w*|\$\d+)", stmt)
        word = head.group(1) if head else ""
        if word in UNSUPPORTED:
            raise QasmError(f"line {line}: '{word}' ({UNSUPPORTED[word]}) is not supported by "
                            "qtnet's OpenQASM 3 import")
        if word in ("qubit", "qreg", "bit", "creg"):
            self.declare(line, word, stmt)
        elif word == "include":
            if not re.match(r'^include\s+"stdgates\.inc"$', stmt):
                raise QasmError(f"line {line}: only 'include \"stdgates.inc\";' is supported")
            self.stdgates = True
        elif word == "gate":
            self.define_gate(line, stmt)
        elif word == "const" or word in CLASSICAL_TYPES:
            self.constant(line, stmt)
        elif word == "input":
            raise QasmError(f"line {line}: 'input' parameters are not supported; bind them "
                            "before exporting (Qiskit: assign_parameters)")
        elif word.startswith(("#", "@")):
            raise QasmError(f"line {line}: pragmas and annotations are not supported")
        elif word == "barrier":
            return
        elif word == "measure" or re.search(r"=\s*measure\b", stmt):
            self.measure(line, stmt)
        elif "=" in stmt.split("(")[0]:
            raise QasmError(f"line {line}: classical assignment is not supported")
        else:
            for item in self.call(line, stmt, {}, None):
                self.check_measured(line, item)
                self.items.append((item, line))

    def declare(self, line: int, word: str, stmt: str) -> None:
        if word in ("qubit", "bit"):
            m = re.match(rf"^{word}\s*(?:\[\s*(?P<size>.+?)\s*\])?\s+(?P<name>{IDENT})$", stmt)
        else:
            m = re.match(rf"^{word}\s+(?P<name>{IDENT})\s*\[\s*(?P<size>.+?)\s*\]$", stmt)
        if not m:
            raise QasmError(f"line {line}: malformed declaration {stmt!r}")
        name = m["name"]
        size = 1 if m["size"] is None else expression(m["size"], self.consts, line)
        if not float(size).is_integer() or size < 1:
            raise QasmError(f"line {line}: {name} must have a positive whole size, got {size}")
        if name in self.registers or name in self.bits or name in self.consts:
            raise QasmError(f"line {line}: {name!r} declared twice")
        if word in ("qubit", "qreg"):
            self.registers[name] = (self.n_qubits, int(size))
            self.n_qubits += int(size)
        else:
            self.bits.add(name)

    def constant(self, line: int, stmt: str) -> None:
        m = re.match(rf"^(?:const\s+)?[a-z]+\s*(?:\[[^\]]*\])?\s+({IDENT})\s*=\s*(.+)$", stmt,
                     re.S)
        if not m:
            raise QasmError(f"line {line}: only scalar declarations with a value "
                            f"('const float x = ...;') are supported, got {stmt!r}")
        self.consts[m.group(1)] = expression(m.group(2), self.consts, line)

    def define_gate(self, line: int, stmt: str) -> None:
        m = re.match(rf"^gate\s+({IDENT})\s*(?:\(([^)]*)\))?\s*([^{{]*)\{{(.*)\}}$", stmt, re.S)
        if not m:
            raise QasmError(f"line {line}: malformed gate definition")
        params = [p.strip() for p in (m.group(2) or "").split(",") if p.strip()]
        args = [a.strip() for a in m.group(3).split(",") if a.strip()]
        if not args:
            raise QasmError(f"line {line}: gate {m.group(1)!r} has no qubit arguments")
        self.user_gates[m.group(1)] = (params, args, m.group(4), line)

    def measure(self, line: int, stmt: str) -> None:
        m = (re.match(r"^measure\s+(.+?)\s*->\s*(.+)$", stmt)
             or re.match(r"^(?:.+?)\s*=\s*measure\s+(.+)$", stmt)
             or re.match(r"^measure\s+(.+)$", stmt))
        if not m:
            raise QasmError(f"line {line}: malformed measure {stmt!r}")
        for group in self.operands(line, [m.group(1)]):
            self.measured.update(group)

    def operands(self, line: int, texts: list[str]) -> list[list[int]]:
        groups = []
        for t in texts:
            m = INDEX.match(t.strip())
            if not m:
                raise QasmError(f"line {line}: cannot read qubit operand {t.strip()!r}")
            name, index = m.group(1), m.group(2)
            if name.startswith("$"):
                if index is not None:
                    raise QasmError(f"line {line}: physical qubit {name} takes no index")
                self.physical.add(int(name[1:]))
                groups.append([int(name[1:])])
                continue
            if name not in self.registers:
                raise QasmError(f"line {line}: unknown qubit operand {t.strip()!r}")
            offset, size = self.registers[name]
            groups.append([offset + k for k in self.indices(line, name, size, index)])
        return groups

    def indices(self, line: int, name: str, size: int, index: str | None) -> list[int]:
        if index is None:
            return list(range(size))
        parts = [p.strip() for p in index.split(":")]
        try:
            values = [int(expression(p, self.consts, line)) for p in parts]
        except QasmError:
            raise QasmError(f"line {line}: unsupported index {name}[{index}]") from None
        if len(values) == 1:
            start, step, stop = values[0], 1, values[0]
        elif len(values) == 2:
            (start, stop), step = values, 1
        else:
            start, step, stop = values
        start, stop = (v + size if v < 0 else v for v in (start, stop))
        out = list(range(start, stop + (1 if step > 0 else -1), step))
        if not out or min(out) < 0 or max(out) >= size:
            raise QasmError(f"line {line}: {name}[{index}] is out of range "
                            f"(register {name} has {size} qubits)")
        return out

    def call(self, line: int, stmt: str, env: dict, local: dict | None) -> list:
        """The items of one gate call (broadcast over registers), modifiers applied."""
        modifiers, rest = [], stmt
        while m := MODIFIER.match(rest):
            arg, rest = None, rest[m.end():]
            if rest.startswith("("):
                end = closing_paren(rest, line)
                arg, rest = expression(rest[1:end], {**self.consts, **env}, line), rest[end + 1:]
            rest = rest.lstrip()
            if not rest.startswith("@"):
                raise QasmError(f"line {line}: modifier {m.group(1)!r} must be followed by '@'")
            modifiers.append((m.group(1), arg))
            rest = rest[1:].strip()
        m = CALL.match(rest)
        if not m:
            raise QasmError(f"line {line}: cannot parse statement {stmt!r}")
        name, ptext, atext = m.groups()
        params = tuple(expression(p, {**self.consts, **env}, line)
                       for p in split_top(ptext or ""))
        n_controls = 0
        for kind, arg in modifiers:
            if kind in ("ctrl", "negctrl"):
                n = 1 if arg is None else arg
                if not float(n).is_integer() or n < 1:
                    raise QasmError(f"line {line}: {kind}({n:g}) needs a positive whole count")
                n_controls += int(n)
            elif kind == "pow" and arg is None:
                raise QasmError(f"line {line}: pow needs an exponent, as in 'pow(2) @'")
            elif kind == "inv" and arg is not None:
                raise QasmError(f"line {line}: inv takes no argument")
        args = split_top(atext)
        if local is None:
            groups = self.operands(line, args) if args else []
        else:
            try:
                groups = [[local[a]] for a in args]
            except KeyError as err:
                raise QasmError(
                    f"line {line}: unknown qubit {err.args[0]!r} in gate body") from None
        width = max((len(g) for g in groups), default=1)
        if any(len(g) not in (1, width) for g in groups):
            raise QasmError(f"line {line}: registers of different sizes in {stmt!r}")
        out = []
        for k in range(width):
            qubits = tuple(g[0] if len(g) == 1 else g[k] for g in groups)
            if len(set(qubits)) != len(qubits):
                raise QasmError(f"line {line}: gate {name} repeats a qubit {qubits}")
            if len(qubits) < n_controls:
                raise QasmError(f"line {line}: {n_controls} control(s) need as many qubits "
                                f"before the target(s) of {name}")
            items = self.gate(line, name, params, qubits[n_controls:])
            controls = list(qubits[:n_controls])
            for kind, arg in reversed(modifiers):
                if kind == "inv":
                    items = invert(items)
                elif kind == "pow":
                    items = power(items, arg, line)
                else:
                    n = 1 if arg is None else int(arg)
                    mine, controls = controls[-n:], controls[:-n]
                    items = add_controls(items, tuple((c, kind == "ctrl") for c in mine))
            out.extend(items)
        return out

    def gate(self, line: int, name: str, params: tuple, qubits: tuple[int, ...]) -> list:
        if name in self.user_gates:
            pnames, anames, body, _ = self.user_gates[name]
            check_arity(line, name, len(pnames), params, len(anames), qubits)
            env, local = dict(zip(pnames, params)), dict(zip(anames, qubits))
            items = []
            for stmt in (s.strip() for s in body.split(";")):
                if stmt and not stmt.startswith("barrier"):
                    items.extend(self.call(line, stmt, env, local))
            return items
        table = BUILTIN if name in BUILTIN else EXTRA_GATES if name in EXTRA_GATES else None
        if name in STDGATES:
            if not self.stdgates:
                raise QasmError(f"line {line}: gate {name!r} needs 'include \"stdgates.inc\";'")
            table = STDGATES
        if table is None:
            raise QasmError(f"line {line}: unsupported or undefined gate {name!r}")
        n_params, n_qubits, build = table[name]
        check_arity(line, name, n_params, params, n_qubits, qubits)
        return build(params, qubits)

    def check_measured(self, line: int, item) -> None:
        qubits = (item.qubits if isinstance(item, Named)
                  else [c for c, _ in item.controls] + [item.target])
        if self.measured.intersection(q for q in qubits if q is not None):
            raise QasmError(f"line {line}: a gate acts on a measured qubit; mid-circuit "
                            "measurement is not supported")

    @staticmethod
    def emit(circuit: Circuit, item) -> None:
        if isinstance(item, Named):
            circuit.apply(item.name, *item.qubits, params=item.params)
            return
        for e in lower(item):
            if e.target is None:
                continue                                    # a global phase
            if not e.controls:
                if e.label is not None:
                    circuit.apply(e.label[0], e.target, params=e.label[1])
                else:
                    circuit.unitary(e.u, e.target)
                continue
            ((c, on),) = e.controls
            if (on and e.label is not None and e.label[0] in CONTROLLED_NAMES
                    and np.array_equal(e.u, qtnet_matrix(*e.label))):
                circuit.apply(CONTROLLED_NAMES[e.label[0]], c, e.target, params=e.label[1])
                continue
            eye, zero = np.eye(2), np.zeros((2, 2))
            blocks = [[eye, zero], [zero, e.u]] if on else [[e.u, zero], [zero, eye]]
            circuit.unitary(np.block(blocks), c, e.target)


def from_qasm3(text: str) -> Circuit:
    """Parse an OpenQASM 3 program into a :class:`Circuit` (raises :class:`QasmError`)."""
    return Qasm3Parser(text).parse()
