"""OpenQASM 2.0 import: agreement with quimb's own simulation, and clear errors."""

import warnings

import numpy as np
import pytest

from qtnet.circuits import QasmError, from_qasm
from tests.helpers import pauli_matrix

PROGRAM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
qreg r[2];
creg c[6];
gate mygate(a, b) x, y { rx(a) x; cx x, y; rz(b/2) y; }
h q;
cx q[0], q[3];
u3(0.3, -pi/4, 2*pi/3) q[1];
mygate(0.7, sin(0.2)) q[2], r[1];
ccx q[0], q[1], r[0];
crz(0.4) r[1], q[0];
cu3(0.1,0.2,0.3) q[3], q[1];
cswap r[0], q[2], q[3];
u2(0.5,0.6) r[1];
sdg q[2]; tdg r[0]; sx q[1]; cy q[0], r[0]; cp(0.25) q[1], r[1];
swap q[0], r[1];
barrier q;
measure q[0] -> c[0];
"""


@pytest.fixture(scope="module")
def quimb_state():
    import quimb.tensor as qtn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qc = qtn.Circuit.from_openqasm2_str(PROGRAM)
    return np.asarray(qc.psi.to_dense()).ravel()


@pytest.mark.parametrize("backend", ["mps", "dense"])
def test_expectations_agree_with_quimb(quimb_state, backend):
    circuit = from_qasm(PROGRAM)
    assert circuit.n_qubits == 6
    rng = np.random.default_rng(0)
    obs = []
    for _ in range(4):
        label = {int(q): "XYZ"[int(rng.integers(3))] for q in rng.choice(6, 3, replace=False)}
        obs.append((float(rng.normal()), label))
    text_obs = [(c, " ".join(f"{p}{q}" for q, p in lab.items())) for c, lab in obs]
    ref = sum(c * np.vdot(quimb_state, pauli_matrix(lab, 6) @ quimb_state).real
              for c, lab in obs)
    assert circuit.expectation(text_obs, backend=backend) == pytest.approx(ref, abs=1e-10)


def test_register_broadcast_and_user_gates_expand():
    c = from_qasm('OPENQASM 2.0; include "qelib1.inc"; qreg a[3]; qreg b[3]; cx a, b; '
                  'gate g x { h x; s x; } g a[1];')
    names = [(op.name, op.qubits) for op in c.ops]
    assert names[:3] == [("CNOT", (0, 3)), ("CNOT", (1, 4)), ("CNOT", (2, 5))]
    assert names[3:] == [("H", (1,)), ("S", (1,))]


@pytest.mark.parametrize("text, match", [
    ("qreg q[2]; h q[0];", "must start with 'OPENQASM 2.0;'"),
    ("OPENQASM 2.0; qreg q[2]; h q[2];", "out of range"),
    ("OPENQASM 2.0; qreg q[2]; foo q[0];", "unsupported or undefined gate 'foo'"),
    ("OPENQASM 2.0; qreg q[2]; rx q[0];", "takes 1 parameter"),
    ("OPENQASM 2.0; qreg q[2]; cx q[0];", "acts on 2 qubit"),
    ("OPENQASM 2.0; qreg q[2]; h q[0]", "no terminating ';'"),
    ("OPENQASM 2.0; qreg q[2]; reset q[0];", "'reset' is not supported"),
    ("OPENQASM 2.0; qreg q[2]; creg c[2]; measure q[0] -> c[0]; h q[0];", "measured qubit"),
    ("OPENQASM 2.0; qreg q[2]; creg c[2]; h q[0]; measure q[0] -> c[0]; h q[0];",
     "measured qubit"),                         # a repeated statement is checked again
    ("OPENQASM 2.0; qreg q[2]; rx(pi*foo) q[0];", "unknown name 'foo'"),
    ("OPENQASM 2.0; qreg q[2]; rx(__import__) q[0];", "unknown name"),
    ("OPENQASM 2.0; qreg q[2]; cx q[0], q[0];", "repeats a qubit"),
    ("OPENQASM 2.0; qreg q[2]; qreg q[3];", "declared twice"),
    ("OPENQASM 2.0; creg c[2];", "no qreg"),
    ('OPENQASM 2.0; include "other.inc"; qreg q[1];', "only 'include"),
    ("OPENQASM 2.0; qreg q[3]; c3x q[0], q[1], q[2];", "unsupported or undefined gate"),
])
def test_malformed_or_unsupported_qasm_names_the_problem(text, match):
    with pytest.raises(QasmError, match=match):
        from_qasm(text)


def test_controlled_hadamard_and_phase_gates():
    c = from_qasm('OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; h q[0]; ch q[0], q[1];')
    assert c.expectation("Z1") == pytest.approx(0.5)       # (|00> + |1+>)/sqrt2
    c = from_qasm('OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; x q; h q[1]; '
                  'cp(pi) q[0], q[1]; h q[1];')
    assert c.expectation("Z1") == pytest.approx(1.0)       # cp(pi) = CZ turns |1-> into |1+>
    without = from_qasm('OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; x q; h q[1]; h q[1];')
    assert without.expectation("Z1") == pytest.approx(-1.0)


def test_header_after_comments_picks_the_reader_and_angles_repeat():
    """``OPENQASM 3;`` after comments reads as QASM 3; repeated and user-gate angles (cached
    by expression and environment) give the gates the text says."""
    from qtnet.circuits.qasm_syntax import split_args

    text3 = ('// a comment\n/* a\nblock */ OPENQASM 3.0;\ninclude "stdgates.inc";\n'
             "qubit[2] q;\nh q[0];\ncx q[0], q[1];\n")
    assert len(from_qasm(text3)) == 2
    with pytest.raises(QasmError):              # the QASM 2 reader refuses `qubit`
        from_qasm(text3.replace("OPENQASM 3.0", "OPENQASM 2.0"))
    text = ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\n'
            "gate g(t) a { rz(t) a; rz(t/2) a; }\n"
            "rz(pi/2) q[0];\nrz(pi/2) q[1];\ng(1) q[0];\ng(2) q[0];\nrz(1) q[1];\n")
    ops = from_qasm(text).ops
    assert [(op.name, op.qubits, op.params) for op in ops] == [
        ("RZ", (0,), (np.pi / 2,)), ("RZ", (1,), (np.pi / 2,)), ("RZ", (0,), (1.0,)),
        ("RZ", (0,), (0.5,)), ("RZ", (0,), (2.0,)), ("RZ", (0,), (1.0,)), ("RZ", (1,), (1.0,))]
    assert split_args(" q[0], q[1] ") == ["q[0]", "q[1]"] and split_args("") == []
    repeated = from_qasm('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\n'
                         + "ccx q[0],q[1],q[2];\nh q[1];\n" * 3).ops
    once = from_qasm('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\n'
                     "ccx q[0],q[1],q[2];\nh q[1];\n").ops
    assert [(op.name, op.qubits) for op in repeated] == [(op.name, op.qubits)
                                                          for op in once] * 3
    assert split_args("sin(a, b), 2") == ["sin(a, b)", "2"]


def test_cached_gate_matrices_follow_their_parameters():
    from qtnet.circuits.circuit import named_matrix
    from qtnet.tn.gates import gate_matrix

    for params in [(0.3,), (np.float64(0.3),), (0.7,), (1,), (0.3, 0.1, 0.2)]:
        name = "RZ" if len(params) == 1 else "U3"
        for _ in range(2):                      # computed, then from the cache
            got = named_matrix(name.lower(), params, np.complex128)
            np.testing.assert_allclose(got, gate_matrix(name, params, np.complex128, xp=np),
                                       atol=1e-15)
