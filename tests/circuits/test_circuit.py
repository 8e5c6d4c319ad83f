"""Circuit API and the qtnet simulate command line."""

import json
import subprocess
import sys

import numpy as np
import pytest

from qtnet.circuits import Circuit
from qtnet.circuits.circuit import run
from qtnet.tn import backends
from qtnet.cli import example_path, main


def test_circuit_bell_state_both_backends():
    c = Circuit(2).h(0).cnot(0, 1)
    for backend in ("mps", "dense", "auto"):
        assert c.expectation("Z0 Z1", backend=backend) == pytest.approx(1.0)
        assert c.expectation("X0 X1", backend=backend) == pytest.approx(1.0)
        assert c.expectation([(0.5, "Z0"), (2.0, "Z0 Z1")], backend=backend) == pytest.approx(2.0)


def test_simulate_reports_truncation():
    c = Circuit(8)
    rng = np.random.default_rng(0)
    for layer in range(6):
        for q in range(8):
            c.ry(q, float(rng.uniform(0, 6)))
        for q in range(layer % 2, 7, 2):
            c.cnot(q, q + 1)
    exact = c.simulate("Z3", backend="dense")
    approx = c.simulate("Z3", backend="mps", max_bond=2)
    assert approx.bond_cap == 2 and approx.max_bond_used <= 2
    assert approx.fidelity_estimate < 1.0
    # the truncated value is as close as its true fidelity F allows: for ||O|| <= 1 and pure
    # states, |<O>_a - <O>_e| <= 2 sqrt(1 - F); the estimate tracks F
    states = [run(c, backend=b, max_bond=m)[0] for b, m in (("mps", 2), ("dense", None))]
    a, e = (np.asarray(backends.of_state(s).amplitudes(s)).reshape(-1) for s in states)
    fid = abs(np.vdot(e, a)) ** 2 / (np.vdot(a, a).real * np.vdot(e, e).real)
    assert 0.1 < fid < 0.99
    assert abs(approx.value - exact.value) <= 2 * np.sqrt(1 - fid) + 1e-6
    assert approx.fidelity_estimate == pytest.approx(fid, rel=0.05)

    def z3(vec):                                   # <Z3> of a statevector, qubit 0 first
        p = (np.abs(vec) ** 2).reshape([2] * 8).sum(axis=(0, 1, 2, 4, 5, 6, 7))
        return (p[0] - p[1]) / p.sum()

    assert exact.value == pytest.approx(z3(e), abs=1e-10)
    assert approx.value == pytest.approx(z3(a), abs=1e-6)      # the truncated state's value
    full = c.simulate("Z3", backend="mps")
    assert full.value == pytest.approx(exact.value, abs=1e-10)
    assert full.fidelity_estimate == pytest.approx(1.0)


@pytest.mark.parametrize("call, match", [
    (lambda c: c.apply("H", 5), "out of range"),
    (lambda c: c.apply("CNOT", 0), "acts on 2 qubit"),
    (lambda c: c.apply("RX", 0), "takes 1 parameter"),
    (lambda c: c.apply("NOPE", 0), "unknown gate"),
    (lambda c: c.cz(1, 1), "distinct"),
    (lambda c: c.expectation("Z0", backend="gpu"), "unknown backend"),
    (lambda c: c.expectation("Z0", max_bond=0), "positive"),
    (lambda c: c.unitary(np.eye(4), 0), "does not fit"),
])
def test_circuit_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(Circuit(3).h(0))


def test_cli_json_on_bundled_example(capsys):
    assert main(["simulate", "example", "--observable", "Z0 Z23", "--json", "--max-bond",
                 "8"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("value", "fidelity_estimate", "max_bond_used", "seconds"):
        assert key in out
    assert out["n_qubits"] == 24 and example_path().is_file()
    assert out["value"] == pytest.approx(_example_z0_z23(), abs=1e-5)    # complex64 default
    assert out["fidelity_estimate"] == pytest.approx(1.0, abs=1e-5)


def _example_z0_z23() -> float:
    """<Z0 Z23> of the bundled example, independently: the GHZ ladder leaves qubits 0, 1, 22,
    23 in (|0000><0000| + |1111><1111|) / 2; the RY layers act on each qubit and the CZ
    bricks (0, 1) and (22, 23) stay among them, so a 4-qubit density matrix gives the value."""
    def ry(theta):
        c, s = np.cos(theta / 2), np.sin(theta / 2)
        return np.array([[c, -s], [s, c]])

    def layer(*gates):
        out = np.eye(1)
        for g in gates:
            out = np.kron(out, g)
        return out

    rho = np.zeros((16, 16))
    rho[0, 0] = rho[15, 15] = 0.5
    cz = np.diag([1.0, 1, 1, -1])
    u = (layer(ry(0.2), ry(0.4), ry(4.6), ry(4.8)) @ layer(cz, cz)
         @ layer(ry(0.1), ry(0.2), ry(2.3), ry(2.4)))
    z = np.diag([1.0, -1])
    return float(np.trace(layer(z, np.eye(2), np.eye(2), z) @ u @ rho @ u.T))


@pytest.mark.parametrize("args, match", [
    (["simulate", "missing.qasm", "--observable", "Z0"], "not found"),
    (["simulate", "example", "--observable", "Q0"], "bad Pauli term"),
    (["simulate", "example", "--observable", "Z99"], "acts on site 99"),
    (["simulate", "example", "--observable", "Z0", "--max-bond", "0"], "positive"),
])
def test_cli_errors_exit_2_with_one_line(args, match, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err


def test_cli_malformed_qasm_file(tmp_path, capsys):
    bad = tmp_path / "bad.qasm"
    bad.write_text("OPENQASM 2.0;\nqreg q[2];\nfoo q[0];\n")
    assert main(["simulate", str(bad), "--observable", "Z0"]) == 2
    assert "line 3" in capsys.readouterr().err


def test_console_entry_point_runs_as_module():
    proc = subprocess.run([sys.executable, "-m", "qtnet", "simulate", "example", "--observable",
                           "Z0", "--backend", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_default_cutoff_drops_numerically_zero_schmidt_values():
    # CRY(1e-13) entangles |+>|0> with Schmidt values (1, ~2.5e-14): numerically zero. (The
    # CZ, trivial on |+>|0>, gives the fused gate operator rank 2: room for bond 2.)
    c = Circuit(4).h(0).cz(0, 1).apply("CRY", 0, 1, params=(1e-13,)).h(2).ry(3, 0.4)
    exact = c.simulate("Z1 X0", backend="dense")
    kept = c.simulate("Z1 X0", backend="mps", cutoff=0.0)
    default = c.simulate("Z1 X0", backend="mps")
    assert kept.max_bond_used == 2 and kept.cutoff == 0.0
    assert default.max_bond_used == 1 and 0 < default.cutoff < 1e-20
    assert 1 - 1e-20 <= default.fidelity_estimate <= 1.0
    assert default.value == pytest.approx(exact.value, abs=1e-12)
    with pytest.raises(ValueError, match="cutoff must be >= 0"):
        c.simulate("Z0", cutoff=-1.0)


def test_another_observable_reuses_the_state_and_program():
    from qtnet.circuits import run

    c = Circuit(3).h(0).cnot(0, 2).ry(1, 0.3)
    state, _ = run(c, backend="mps")
    assert run(c, backend="mps")[0] is state and c.program() is c.program()
    assert c.expectation("Z0 Z2") == pytest.approx(1.0)
    assert c.expectation("X1") == pytest.approx(np.sin(0.3))
    assert run(c, backend="mps", max_bond=2)[0] is not state        # other settings: rerun
    c.x(2)                                                           # another circuit now
    assert c.expectation("Z0 Z2") == pytest.approx(-1.0)
