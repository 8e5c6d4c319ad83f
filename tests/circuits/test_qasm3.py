"""OpenQASM 3 import: each construct against quimb's simulation of the same circuit written
in OpenQASM 2 (or, where OpenQASM 2 has no word for it, a dense reference), a Qiskit-style
exported file, and one-line errors with line numbers."""

import json
import math
import warnings

import numpy as np
import pytest

from qtnet.circuits import QasmError, from_qasm, from_qasm_file
from qtnet.circuits.circuit import run
from tests.helpers import apply_dense

# Every program starts from the same entangled state, so that controls and relative phases
# show in the result.
PREP = "h q; ry(0.3) q[0]; rx(0.7) q[2]; cx q[0], q[1];"


def v3(body: str, n: int = 3) -> str:
    return f'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[{n}] q;\nbit[{n}] c;\n{PREP}\n{body}'


# quimb has no ch: its qelib1 definition.
CH = "gate ch a,b { h b; sdg b; cx a,b; h b; t b; cx a,b; t b; h b; s b; x b; s a; }"


def v2(body: str, n: int = 3) -> str:
    return f'OPENQASM 2.0;\ninclude "qelib1.inc";\n{CH}\nqreg q[{n}];\n{PREP}\n{body}'


def qtnet_state(text: str) -> np.ndarray:
    state, _ = run(from_qasm(text), backend="dense")
    return np.asarray(state.to_dense()).ravel()


def quimb_state(text: str) -> np.ndarray:
    import quimb.tensor as qtn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(qtn.Circuit.from_openqasm2_str(text).psi.to_dense()).ravel()


def assert_same_state(a, b):
    """Equal up to one global phase (a relative phase anywhere fails)."""
    assert a.shape == b.shape
    assert abs(np.vdot(a, b)) == pytest.approx(1.0, abs=1e-10)


THETA, PHI, LAM = 0.5, 0.2, -0.4
CASES = {   # construct: (OpenQASM 3 body, the same circuit in OpenQASM 2)
    "stdgates": ("x q[1]; y q[2]; z q[0]; s q[1]; t q[2]; sdg q[0]; tdg q[1]; sx q[2]; "
                 "rz(pi/3) q[2]; p(0.2) q[0]; u1(0.3) q[1]; u2(0.1, 0.2) q[2]; "
                 "u3(0.3, -pi/4, 2*pi/3) q[1]; U(0.4, 0.5, 0.6) q[0]; id q[1]; "
                 "cy q[1], q[2]; cz q[2], q[0]; cp(0.25) q[0], q[2]; crx(0.3) q[1], q[0]; "
                 "cry(0.6) q[2], q[1]; crz(0.9) q[0], q[1]; ch q[2], q[0]; swap q[0], q[1]; "
                 "ccx q[2], q[0], q[1]; cswap q[1], q[2], q[0];",
                 "x q[1]; y q[2]; z q[0]; s q[1]; t q[2]; sdg q[0]; tdg q[1]; sx q[2]; "
                 "rz(pi/3) q[2]; u1(0.2) q[0]; u1(0.3) q[1]; u2(0.1, 0.2) q[2]; "
                 "u3(0.3, -pi/4, 2*pi/3) q[1]; u3(0.4, 0.5, 0.6) q[0]; id q[1]; "
                 "cy q[1], q[2]; cz q[2], q[0]; cu1(0.25) q[0], q[2]; crx(0.3) q[1], q[0]; "
                 "cry(0.6) q[2], q[1]; crz(0.9) q[0], q[1]; ch q[2], q[0]; swap q[0], q[1]; "
                 "ccx q[2], q[0], q[1]; cswap q[1], q[2], q[0];"),
    "declarations and indices": (
        "qubit r; qubit[2] s; qreg t[1]; const float[64] half = 0.5; "
        "rx(half) r; cx q[-1], s[1]; h s[0:1]; ry(half * 2) t[0]; cz q[0:1], s;",
        "qreg r[1]; qreg s[2]; qreg t[1]; rx(0.5) r[0]; cx q[2], s[1]; h s[0]; h s[1]; "
        "ry(1.0) t[0]; cz q[0], s[0]; cz q[1], s[1];"),
    "expressions": (
        "rx(2*π/3 - sin(0.2)**2) q[0]; ry(tau/8 + arccos(0.3)) q[1]; rz(euler * 0.5) q[2]; "
        "p(log(2.0) + sqrt(2) * exp(-1) / (1 + cos(0.1))) q[0]; rz(1_000 * 1e-3) q[1];",
        f"rx({2 * math.pi / 3 - math.sin(0.2) ** 2!r}) q[0]; "
        f"ry({math.tau / 8 + math.acos(0.3)!r}) q[1]; rz({math.e * 0.5!r}) q[2]; "
        f"u1({math.log(2) + math.sqrt(2) * math.exp(-1) / (1 + math.cos(0.1))!r}) q[0]; "
        "rz(1.0) q[1];"),
    "gate definitions": (
        "gate g(a, b) x, y { ry(a) x; ctrl @ rz(b) x, y; gphase(a); }\n"
        "gate h2 x, y { g(0.1, 0.2) y, x; h x; }\n"
        "g(0.4, -0.9) q[0], q[2]; h2 q[1], q[0]; g(1.0, 0.5) q[0:1], q[1:2];",
        "ry(0.4) q[0]; crz(-0.9) q[0], q[2]; ry(0.1) q[0]; crz(0.2) q[0], q[1]; h q[1]; "
        "ry(1.0) q[0]; crz(0.5) q[0], q[1]; ry(1.0) q[1]; crz(0.5) q[1], q[2];"),
    "ctrl": (
        f"ctrl @ h q[0], q[1]; ctrl @ rz(0.3) q[1], q[2]; ctrl @ ctrl @ x q[0], q[1], q[2]; "
        f"ctrl(2) @ x q[2], q[0], q[1]; negctrl @ x q[0], q[1]; "
        f"ctrl @ u3({THETA}, {PHI}, {LAM}) q[0], q[2]; ctrl @ gphase(0.7) q[1]; "
        f"ctrl @ swap q[0], q[1], q[2]; cu({THETA}, {PHI}, {LAM}, 0.3) q[1], q[0]; "
        f"ctrl @ cx q[1], q[2], q[0]; negctrl @ gphase(0.4) q[2];",
        f"ch q[0], q[1]; crz(0.3) q[1], q[2]; ccx q[0], q[1], q[2]; ccx q[2], q[0], q[1]; "
        f"x q[0]; cx q[0], q[1]; x q[0]; "
        f"cu3({THETA}, {PHI}, {LAM}) q[0], q[2]; u1({-(PHI + LAM) / 2!r}) q[0]; u1(0.7) q[1]; "
        f"cswap q[0], q[1], q[2]; u1(0.3) q[1]; cu3({THETA}, {PHI}, {LAM}) q[1], q[0]; "
        f"ccx q[1], q[2], q[0]; x q[2]; u1(0.4) q[2]; x q[2];"),
    "inv": (
        f"inv @ s q[0]; inv @ u3({THETA}, {PHI}, {LAM}) q[1]; "
        "gate g x, y { h x; cx x, y; t y; } inv @ g q[0], q[1]; inv @ ctrl @ rx(0.3) q[2], q[0]; "
        "inv @ inv @ sx q[2]; inv @ swap q[1], q[2];",
        f"sdg q[0]; u3({-THETA}, {-LAM}, {-PHI}) q[1]; tdg q[1]; cx q[0], q[1]; h q[0]; "
        "crx(-0.3) q[2], q[0]; sx q[2]; swap q[1], q[2];"),
    "pow": (
        "pow(2) @ s q[0]; pow(0.5) @ x q[1]; pow(-1) @ t q[2]; pow(1/3) @ rz(0.9) q[0]; "
        "pow(3) @ cx q[0], q[1]; pow(0) @ h q[2]; pow(2) @ pow(0.25) @ z q[1]; "
        "ctrl @ pow(0.5) @ rx(0.8) q[1], q[2]; inv @ pow(0.5) @ s q[0]; "
        "pow(0.5) @ inv @ p(pi) q[2];",
        "z q[0]; sx q[1]; tdg q[2]; rz(0.3) q[0]; cx q[0], q[1]; s q[1]; crx(0.4) q[1], q[2]; "
        "tdg q[0]; s q[2];"),
    "measure and barrier": (
        "barrier q; h q[1]; c = measure q; measure q[0] -> c[0]; c[1] = measure q[1]; "
        "measure q[2];",
        "barrier q; h q[1];"),
}


@pytest.mark.parametrize("construct", list(CASES))
def test_construct_agrees_with_quimb(construct):
    body3, body2 = CASES[construct]
    assert_same_state(qtnet_state(v3(body3)), quimb_state(v2(body2)))


def controlled_dense(u, controls):
    """Dense matrix of ``u`` on the last qubit of ``(*controls, target)`` applied when each
    control holds its bit."""
    k = len(controls)
    m = np.eye(2 ** (k + 1), dtype=complex)
    row = int("".join(str(int(b)) for b in controls), 2) * 2
    m[row:row + 2, row:row + 2] = u
    return m


def test_multi_controlled_gates_against_a_dense_reference():
    rz = np.diag([np.exp(-0.2j), np.exp(0.2j)])
    c, s = math.cos(0.4), math.sin(0.4)
    ry = np.array([[c, -s], [s, c]])
    h = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
    sqrt_x = 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]])
    text = ('OPENQASM 3;\ninclude "stdgates.inc";\nqubit[4] q;\n'
            "h q; ry(0.3) q[0]; rx(0.7) q[2]; cx q[0], q[1]; t q[3];\n"
            "ctrl(2) @ rz(0.4) q[0], q[1], q[2];\n"
            "negctrl @ ctrl @ ry(0.8) q[2], q[0], q[1];\n"
            "ctrl @ pow(0.5) @ x q[0], q[2];\n"
            "ctrl(2) @ negctrl @ h q[0], q[3], q[1], q[2];\n")
    psi = np.zeros(16, complex)
    psi[0] = 1
    for g, sites in [(h, [0]), (h, [1]), (h, [2]), (h, [3])]:
        psi = apply_dense(psi, g, sites, 4)
    c3, s3 = math.cos(0.15), math.sin(0.15)
    rx = np.array([[math.cos(0.35), -1j * math.sin(0.35)], [-1j * math.sin(0.35),
                                                             math.cos(0.35)]])
    psi = apply_dense(psi, np.array([[c3, -s3], [s3, c3]]), [0], 4)
    psi = apply_dense(psi, rx, [2], 4)
    psi = apply_dense(psi, controlled_dense(np.array([[0, 1], [1, 0]]), [1]), [0, 1], 4)
    psi = apply_dense(psi, np.diag([1, np.exp(1j * math.pi / 4)]), [3], 4)
    psi = apply_dense(psi, controlled_dense(rz, [1, 1]), [0, 1, 2], 4)
    psi = apply_dense(psi, controlled_dense(ry, [0, 1]), [2, 0, 1], 4)
    psi = apply_dense(psi, controlled_dense(sqrt_x, [1]), [0, 2], 4)
    psi = apply_dense(psi, controlled_dense(h, [1, 1, 0]), [0, 3, 1, 2], 4)
    assert_same_state(qtnet_state(text), psi)


def qiskit_style(gates, n: int) -> str:
    """An OpenQASM 3 file laid out as Qiskit's exporter writes one (qiskit.qasm3.dumps):
    definitions of non-standard gates with ``_gate_p_*`` / ``_gate_q_*`` names, bits before
    qubits, a final barrier and one ``c[i] = measure q[i];`` per qubit."""
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";',
             "gate rzz(_gate_p_0) _gate_q_0, _gate_q_1 {",
             "  cx _gate_q_0, _gate_q_1;", "  rz(_gate_p_0) _gate_q_1;",
             "  cx _gate_q_0, _gate_q_1;", "}",
             "gate sxdg _gate_q_0 {", "  s _gate_q_0;", "  h _gate_q_0;", "  s _gate_q_0;", "}",
             f"bit[{n}] c;", f"qubit[{n}] q;"]
    for name, params, qubits in gates:
        p = f"({', '.join(repr(x) for x in params)})" if params else ""
        lines.append(f"{name}{p} {', '.join(f'q[{k}]' for k in qubits)};")
    lines.append("barrier " + ", ".join(f"q[{k}]" for k in range(n)) + ";")
    lines += [f"c[{k}] = measure q[{k}];" for k in range(n)]
    return "\n".join(lines) + "\n"


def random_gates(n: int, count: int, rng):
    vocab = {"h": (0, 1), "sx": (0, 1), "sxdg": (0, 1), "rz": (1, 1), "ry": (1, 1),
             "p": (1, 1), "U": (3, 1), "cx": (0, 2), "cz": (0, 2), "rzz": (1, 2)}
    names = sorted(vocab)
    out = []
    for _ in range(count):
        name = names[rng.integers(len(names))]
        n_params, n_qubits = vocab[name]
        out.append((name, tuple(float(x) for x in rng.uniform(-np.pi, np.pi, n_params)),
                    tuple(int(q) for q in rng.choice(n, n_qubits, replace=False))))
    return out


def as_qasm2(gates, n: int) -> str:
    spelled = {"p": "u1", "U": "u3", "sxdg": "s {0}; h {0}; s {0}",
               "rzz": "cx {0}, {1}; rz({p}) {1}; cx {0}, {1}"}
    lines = ['OPENQASM 2.0;', 'include "qelib1.inc";', f"qreg q[{n}];"]
    for name, params, qubits in gates:
        qs = [f"q[{k}]" for k in qubits]
        if "{" in spelled.get(name, ""):
            lines.append(spelled[name].format(*qs, p=params[0] if params else 0) + ";")
        else:
            p = f"({', '.join(repr(x) for x in params)})" if params else ""
            lines.append(f"{spelled.get(name, name)}{p} {', '.join(qs)};")
    return "\n".join(lines) + "\n"


def test_a_qiskit_exported_file(tmp_path, capsys):
    from qtnet.cli import main

    n, rng = 4, np.random.default_rng(7)
    gates = random_gates(n, 30, rng)
    path = tmp_path / "exported.qasm"
    path.write_text(qiskit_style(gates, n))
    expected = quimb_state(as_qasm2(gates, n))
    assert_same_state(np.asarray(run(from_qasm_file(path), backend="dense")[0]
                                 .to_dense()).ravel(), expected)
    zz = np.kron(np.diag([1, -1]), np.kron(np.eye(2), np.kron(np.eye(2), np.diag([1, -1]))))
    assert main(["simulate", str(path), "--observable", "Z0 Z3", "--x64", "--json"]) == 0
    value = json.loads(capsys.readouterr().out)["value"]
    assert value == pytest.approx(np.vdot(expected, zz @ expected).real, abs=1e-10)


@pytest.mark.parametrize("body, line, match", [
    ("if (c[0]) x q[0];", 5, r"'if' \(classical control flow\)"),
    ("for int i in [0:1] { x q[0]; }", 5, r"'for' \(classical control flow\)"),
    ("while (c == 0) { h q[0]; }", 5, "'while'"),
    ("reset q[0];", 5, r"'reset' \(reset\)"),
    ("delay[100ns] q[0];", 5, r"'delay' \(timing\)"),
    ("box { h q[0]; }", 5, r"'box' \(timing\)"),
    ("h q[0];\nc[0] = measure q[0];\nx q[0];", 7, "mid-circuit measurement"),
    ("h q[0];\nmeasure q -> c;\ncx q[1], q[2];", 7, "mid-circuit measurement"),
    ("input float[64] theta;", 5, "'input' parameters"),
    ("rx(2^3) q[0];", 5, "XOR"),
    ("pow(0.5) @ swap q[0], q[1];", 5, r"non-integer power"),
    ("foo q[0];", 5, "undefined gate 'foo'"),
    ("rx q[0];", 5, "takes 1 parameter"),
    ("ctrl @ x q[0];", 5, "acts on 1 qubit"),
    ("h q[3];", 5, "out of range"),
    ("cx q[0], q[0];", 5, "repeats a qubit"),
    ("c[0] = 1;", 5, "classical assignment"),
    ("let a = q[0:1];", 5, r"'let' \(aliases\)"),
    ("inv(2) @ x q[0];", 5, "inv takes no argument"),
])
def test_unsupported_or_malformed_names_the_line(body, line, match):
    text = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\n' + body
    with pytest.raises(QasmError, match=rf"^line {line}: .*{match}"):
        from_qasm(text)


def test_stdgates_need_their_include_and_v2_errors_stay():
    with pytest.raises(QasmError, match="needs 'include"):
        from_qasm("OPENQASM 3;\nqubit[1] q;\nh q[0];")
    assert from_qasm("OPENQASM 3;\nqubit[1] q;\nU(pi/2, 0, pi) q[0];").expectation(
        "X0") == pytest.approx(1.0)
    with pytest.raises(QasmError, match="OPENQASM 2.0;' or 'OPENQASM 3;'"):
        from_qasm("OPENQASM 4;\nqubit[1] q;")
