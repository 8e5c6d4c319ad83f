"""Compiled gate programs: fusion and routing are exact, and the traced program does not grow
with the number of gates (MPS and dense backends)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qtnet.tn import backends
from qtnet.tn.gates import FIXED_1Q, FIXED_2Q, rz
from qtnet.tn.program import compile_program
from tests.helpers import random_unitary, run_gates_dense
from tests.tn.test_compile import _count_eqns

NAMED_1Q = [FIXED_1Q[k] for k in ("H", "X", "S", "T")]
NAMED_2Q = [FIXED_2Q[k] for k in ("CNOT", "CZ", "SWAP")]


def random_circuit(n, n_gates, rng, pairs=None):
    """Gates that fusion has work to do on: named self-inverse gates (merged runs cancel),
    random unitaries, repeated pairs, single-qubit gates between two-qubit ones."""
    pairs = pairs or [tuple(int(q) for q in rng.choice(n, 2, replace=False)) for _ in range(3)]
    ops = []
    for _ in range(n_gates):
        kind = rng.integers(4)
        if kind == 0:
            ops.append((NAMED_1Q[rng.integers(4)] if rng.uniform() < 0.5
                        else random_unitary(2, rng), (int(rng.integers(n)),)))
        elif kind == 1:
            ops.append((random_unitary(4, rng),
                        tuple(int(q) for q in rng.choice(n, 2, replace=False))))
        else:
            a, b = pairs[rng.integers(len(pairs))]
            ops.append((NAMED_2Q[rng.integers(3)], (a, b) if rng.uniform() < 0.5 else (b, a)))
    return ops


def run_program_dense(n, prog):
    pairs = [(g, (i, i + 1)) for i, g in zip(prog.sites.tolist(), np.asarray(prog.gates))]
    return run_gates_dense(n, pairs + [(u, (q,)) for q, u in enumerate(np.asarray(prog.final))])


@given(n=st.integers(2, 6), n_gates=st.integers(0, 40), seed=st.integers(0, 10**6))
def test_fused_program_equals_the_gate_list(n, n_gates, seed):
    rng = np.random.default_rng(seed)
    ops = random_circuit(n, n_gates, rng)
    prog = compile_program(ops, n)
    assert set(prog.sites.tolist()) <= set(range(n - 1))
    np.testing.assert_allclose(run_program_dense(n, prog), run_gates_dense(n, ops), atol=1e-12)


def test_fusion_merges_runs_and_absorbs_single_qubit_gates():
    h, x, cnot, swap = FIXED_1Q["H"], FIXED_1Q["X"], FIXED_2Q["CNOT"], FIXED_2Q["SWAP"]
    # H, CNOT, H, CNOT on one pair: one gate; the trailing X joins it as well.
    prog = compile_program([(h, (0,)), (cnot, (0, 1)), (h, (1,)), (cnot, (1, 0)),
                            (x, (0,))], 2)
    assert prog.sites.tolist() == [0]
    np.testing.assert_allclose(np.asarray(prog.final), np.broadcast_to(np.eye(2), (2, 2, 2)))
    # A run that multiplies to the identity is dropped, across gates on other qubits.
    prog = compile_program([(cnot, (0, 1)), (cnot, (2, 3)), (cnot, (0, 1)), (swap, (1, 0)),
                            (swap, (0, 1))], 4)
    assert prog.sites.tolist() == [2]
    # A ladder into one far qubit: routed once, not there and back for every gate.
    ladder = [(cnot, (q, 5)) for q in range(5)]
    prog = compile_program(ladder, 6)
    np.testing.assert_allclose(run_program_dense(6, prog), run_gates_dense(6, ladder),
                               atol=1e-12)
    assert len(prog.sites) <= 5 + 4 + 4          # gates, SWAPs in, SWAPs home
    # A qubit no two-qubit gate touches keeps its gates in the final layer.
    prog = compile_program([(h, (2,)), (x, (2,)), (cnot, (0, 1))], 3)
    np.testing.assert_allclose(np.asarray(prog.final[2]), x @ h, atol=1e-15)


def test_traced_matrices_compile_to_the_same_state():
    n, theta = 4, 0.37
    ops = random_circuit(n, 20, np.random.default_rng(5))
    dense = backends.get("dense")

    def build(t):
        return compile_program([*ops, (rz(t), (2,)), (FIXED_2Q["CZ"], (2, 0))], n)

    @jax.jit
    def amplitudes(t):
        prog = build(t)
        assert prog.traced
        zero = dense.zero_state_for(prog, n, dtype=jnp.complex128)
        return dense.amplitudes(dense.apply_program(zero, prog))

    want = run_gates_dense(n, [*ops, (np.asarray(rz(theta)), (2,)), (FIXED_2Q["CZ"], (2, 0))])
    np.testing.assert_allclose(np.asarray(amplitudes(theta)), want, atol=1e-12)
    assert not build(theta).traced


def _program_jaxpr_size(backend, n_gates, n=6):
    ops = random_circuit(n, n_gates, np.random.default_rng(n_gates))
    prog = compile_program(ops, n)
    net = backends.get(backend)
    state = net.zero_state_for(prog, n, max_bond=8, dtype=jnp.complex128)
    jaxpr = jax.make_jaxpr(lambda s, g, f: net.apply_program(
        s, type(prog)(prog.sites, g, f, prog.bond_bound, prog.gate_ranks), cutoff=1e-20))(
        state, prog.gates, prog.final)
    return _count_eqns(jaxpr.jaxpr), len(prog.sites)


@pytest.mark.parametrize("backend", ["mps", "dense"])
def test_traced_program_size_is_independent_of_gate_count(backend):
    small, g_small = _program_jaxpr_size(backend, 40)
    large, g_large = _program_jaxpr_size(backend, 4000)
    assert g_large > 50 * g_small // 2            # the gate stream really is longer
    assert large == small


@pytest.mark.parametrize("routing", ["lazy", "back"])
def test_both_routings_are_exact(routing):
    n, rng = 6, np.random.default_rng(4)
    ops = random_circuit(n, 40, rng)
    prog = compile_program(ops, n, routing=routing)
    np.testing.assert_allclose(run_program_dense(n, prog), run_gates_dense(n, ops), atol=1e-12)


def test_all_pairs_cnots_route_there_and_back():
    """CNOTs between all pairs (MQT Bench's vqe_two_local): lazy routing scatters the qubits,
    there and back keeps them near their order with fewer gates, and auto picks it."""
    n = 8
    ops = [(FIXED_2Q["CNOT"], (a, b)) for b in range(n) for a in range(b)]   # its order
    lazy, back = (len(compile_program(ops, n, routing=r).sites) for r in ("lazy", "back"))
    assert back < lazy
    assert len(compile_program(ops, n).sites) == back
    with pytest.raises(ValueError, match="routing"):
        compile_program(ops, n, routing="nearest")


@pytest.mark.parametrize("n, lazy_kept", [(4, True), (5, False)])
def test_auto_routing_keeps_lazy_only_if_much_shorter(n, lazy_kept):
    """CNOTs from each qubit to the one two sites on, around the ring: lazily 4 vs 12 gates
    there and back at n = 4 (lazy is kept), 17 vs 19 at n = 5 (not a quarter fewer: there and
    back is kept)."""
    cnot = FIXED_2Q["CNOT"]
    ops = [(cnot, (q, (q + 2) % n)) for q in range(n)]
    lazy, back = (compile_program(ops, n, routing=r) for r in ("lazy", "back"))
    assert len(lazy.sites) < len(back.sites)
    auto = compile_program(ops, n)
    assert auto.sites.tolist() == (lazy if lazy_kept else back).sites.tolist()
    np.testing.assert_allclose(run_program_dense(n, auto), run_gates_dense(n, ops), atol=1e-12)


def test_there_and_back_moves_the_qubit_the_next_gate_shares():
    """Rows of an inverse QFT, ``cp(j, 0), ..., cp(j, j - 1)`` (MQT Bench's ae and qpe):
    moving j, the SWAPs taking it home and out to the next partner cancel, ~2j gates a row;
    moving the partner instead costs ~j^2 a row."""
    n, rng = 9, np.random.default_rng(7)
    ops = []
    for j in range(1, n):
        ops.append((random_unitary(2, rng), (j,)))
        ops += [(np.diag(np.exp(1j * np.array([0, 0, 0, rng.uniform(0, 2 * np.pi)]))),
                 (j, k)) for k in range(j)]
    prog = compile_program(ops, n, routing="back")
    assert len(prog.sites) <= sum(2 * j for j in range(1, n))     # 72; the partner moved: 196
    np.testing.assert_allclose(run_program_dense(n, prog), run_gates_dense(n, ops), atol=1e-12)
