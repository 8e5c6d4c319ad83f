"""The host run of a concrete program equals the dense statevector (complex128), truncates as
the traced fixed-shape scan does, and keeps each bond at the state's own dimension."""

import jax.numpy as jnp
import numpy as np
import pytest

import qtnet.tn as tn
from qtnet.tn import adaptive, evolve
from qtnet.tn.backends.mps import basis_zero_state
from qtnet.tn.gates import FIXED_1Q, FIXED_2Q
from qtnet.tn.program import compile_program
from tests.helpers import run_gates_dense
from tests.tn.test_program import random_circuit


def _there_and_back(n, rng):
    ops = random_circuit(n, 30, rng)
    back = [(np.conj(np.asarray(m)).T, sites) for m, sites in reversed(ops)]
    return ops + back + [(np.asarray(m), s) for m, s in random_circuit(n, 20, rng)]


def _host_run(prog, n, cap, cutoff):
    """From |0...0> at bond cap 1, growing up to ``cap``."""
    zero = basis_zero_state(n, 1, jnp.complex128)
    return adaptive.apply_program_adaptive(zero, prog.sites, prog.gates, prog.final,
                                           cutoff=cutoff, max_bond=cap)


@pytest.mark.parametrize("cutoff, switch", [(0.0, False), (1e-24, False), (1e-24, True)])
def test_host_run_is_exact_and_canonical(cutoff, switch, monkeypatch):
    """Gate by gate, and switched to the statevector once a centre costs more than the
    statevector's size (``DENSE_SWITCH_RATIO`` lowered to 1: at n = 6 the 8 x 8 centres),
    then factored back: the same state, canonical, at the state's own bonds."""
    n, rng = 6, np.random.default_rng(11)
    monkeypatch.setattr(adaptive, "DENSE_SWITCH_RATIO", 1.0 if switch else float("inf"))
    calls = []
    host = adaptive.apply_program_host
    monkeypatch.setattr(adaptive, "apply_program_host",
                        lambda psi, sites, *a: calls.append(len(sites)) or host(psi, sites, *a))
    ops = _there_and_back(n, rng)          # entangles fully, undoes it, entangles a little
    prog = compile_program(ops, n)
    state = _host_run(prog, n, 8, cutoff)
    assert bool(calls) == switch and all(0 < c < len(prog.sites) for c in calls)
    cap = state.bond_cap                   # the power of two that holds the final state
    assert cap == 4 == state.max_bond_used()
    np.testing.assert_allclose(np.asarray(tn.to_dense(state)), run_gates_dense(n, ops),
                               atol=1e-10)
    assert float(state.fidelity_estimate) == pytest.approx(1.0, abs=1e-12)
    psi = run_gates_dense(n, ops)
    for b in range(1, n):                  # the Schmidt values are the state's
        want = np.linalg.svd(psi.reshape(2 ** b, -1), compute_uv=False)
        got = np.asarray(state.schmidt[b])
        np.testing.assert_allclose(got, np.pad(want, (0, cap))[:cap], atol=1e-10)
    # Right-orthonormal site tensors: sum_{p r} B B^* = 1 on the live slots.
    for i in range(n):
        b = np.asarray(state.tensors[i])[:int(state.ranks[i])]
        np.testing.assert_allclose(np.einsum("apr,bpr->ab", b, b.conj()),
                                   np.eye(len(b)), atol=1e-12)


def test_bonds_follow_the_state():
    """A CNOT there and back leaves a product state: bond 1 again, in the ranks too."""
    n = 5
    ops = [(FIXED_1Q["H"], (0,)), (FIXED_2Q["CNOT"], (0, 4)), (FIXED_1Q["T"], (2,)),
           (FIXED_2Q["CNOT"], (0, 4))]
    state = _host_run(compile_program(ops, n), n, 4, 1e-24)
    np.testing.assert_allclose(np.asarray(tn.to_dense(state)), run_gates_dense(n, ops),
                               atol=1e-12)
    assert state.max_bond_used() == 1 and state.bond_cap == 1     # the arrays too
    assert np.asarray(state.ranks).tolist() == [1] * (n + 1)


def test_truncation_matches_the_traced_scan():
    """At a cap below the state's bond both runs keep the same values: same state, same
    fidelity estimate (which is well below 1)."""
    n, rng = 6, np.random.default_rng(5)
    prog = compile_program(random_circuit(n, 40, rng), n)
    host = _host_run(prog, n, 2, 0.0)
    zero = basis_zero_state(n, 2, jnp.complex128)
    traced = evolve.apply_single_site_layer(
        evolve.apply_two_site_sequence(zero, jnp.asarray(prog.sites), prog.gates), prog.final)
    assert float(host.fidelity_estimate) < 0.9
    assert float(host.fidelity_estimate) == pytest.approx(float(traced.fidelity_estimate),
                                                          rel=1e-9)
    np.testing.assert_allclose(np.asarray(tn.to_dense(host)), np.asarray(tn.to_dense(traced)),
                               atol=1e-9)


def test_host_readout_equals_the_compiled_one():
    """Pauli sums (Y included) on a truncated state from the traced scan (zero-weight slots
    carry nonzero tensors there) and on a host-run state: numpy = the compiled read-out."""
    from qtnet.tn.backends.mps import _pauli_sum
    from qtnet.tn.contract import expectation_local_host
    from qtnet.tn.mpo import pauli_terms

    n, rng = 6, np.random.default_rng(3)
    prog = compile_program(random_circuit(n, 40, rng), n)
    zero = basis_zero_state(n, 4, jnp.complex128)
    traced = evolve.apply_single_site_layer(
        evolve.apply_two_site_sequence(zero, jnp.asarray(prog.sites), prog.gates), prog.final)
    observable = [(0.7, "Z0"), (-1.3, "X1 Y4"), (0.4, "Y0 Y5"), (2.0, "Z2 X3 Z5")]
    coeffs, ops = pauli_terms(observable, n)
    for state in (traced, _host_run(prog, n, 8, 1e-24)):
        want = float(_pauli_sum(state, coeffs, ops))
        got = float(np.real(np.sum(coeffs * expectation_local_host(state, ops))))
        assert got == pytest.approx(want, abs=1e-12)
    psi = run_gates_dense(n, random_circuit(n, 40, np.random.default_rng(3)))
    assert float(tn.backends.get("mps").expectation_pauli(_host_run(prog, n, 8, 0.0),
                                                          observable)) == pytest.approx(
        float(tn.backends.get("dense").expectation_pauli(
            tn.backends.get("dense").encode(psi), observable)), abs=1e-10)


def test_real_circuit_runs_in_real_arithmetic(monkeypatch):
    """H, CZ, CNOT, SWAP and RY gates from |0...0>: real LAPACK, the dense state exactly;
    one T gate makes the same circuit complex."""
    n, rng = 6, np.random.default_rng(8)
    names = ("CZ", "CNOT", "SWAP")
    ops = [(FIXED_1Q["H"], (q,)) for q in range(n)]
    for _ in range(30):
        a, b = (int(q) for q in rng.choice(n, 2, replace=False))
        ops.append((FIXED_2Q[names[int(rng.integers(3))]], (a, b)))
        ops.append((np.asarray(tn.gates.ry(rng.uniform(0, 6.3))), (a,)))
    seen = []
    svd_functions = adaptive._svd_functions
    monkeypatch.setattr(adaptive, "_svd_functions",
                        lambda dtype: seen.append(np.dtype(dtype)) or svd_functions(dtype))
    for extra, work in (([], np.float64), ([(FIXED_1Q["T"], (2,))], np.complex128)):
        circuit = ops[:40] + extra + ops[40:]
        state = _host_run(compile_program(circuit, n), n, 8, 1e-24)
        assert seen.pop() == work
        assert state.tensors.dtype == jnp.complex128
        np.testing.assert_allclose(np.asarray(tn.to_dense(state)),
                                   run_gates_dense(n, circuit), atol=1e-12)
