"""The tree tensor network against the dense statevector (float64, 1e-10): builders from a
vector and from an MPS, gates, read-outs, gradients, the pooling circuit on all three
backends, and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet import tn
from qtnet.tn import backends, ttn
from qtnet.tn.ttn.pooling import (PoolingCircuit, check_pooling, pooling_expectation,
                                  pooling_gates)

DENSE = backends.get("dense")
TREE = backends.get("tree")
MPS = backends.get("mps")


def _vector(n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=2**n) + 1j * rng.normal(size=2**n)


def _circuit(levels, seed):
    rng = np.random.default_rng(seed)
    gate = lambda *shape: tn.su4(rng.normal(size=(*shape, 15)), xp=np)  # noqa: E731
    return PoolingCircuit(gate(), gate(levels - 1), gate(levels - 1), gate(levels - 1),
                          gate())


@pytest.mark.parametrize("n", [2, 4, 8])
def test_from_dense_and_from_mps_hold_the_vector(n):
    v = _vector(n, n)
    for tree in (ttn.from_dense(v), ttn.from_mps(tn.mps_from_dense(v))):
        np.testing.assert_allclose(ttn.to_dense(tree), v, atol=1e-10)
        assert abs(float(tree.fidelity_estimate) - 1) < 1e-10
        assert [t.shape[-1] for t in tree.levels] == [*ttn.tree_bond_dims(n)[:-1], 1]
    assert TREE.fidelity(tree) == pytest.approx(1.0)


def test_truncation_reports_the_kept_weight():
    v = _vector(8, 0)
    kept = []
    for tree in (ttn.from_dense(v, max_bond=3), ttn.from_mps(tn.mps_from_dense(v), max_bond=3)):
        out = np.asarray(ttn.to_dense(tree))
        fidelity = abs(np.vdot(v, out)) ** 2 / (np.vdot(v, v).real * np.vdot(out, out).real)
        assert float(tree.fidelity_estimate) == pytest.approx(fidelity, abs=1e-10)
        assert fidelity < 0.99 and tree.max_bond_used() == 3
        kept.append(np.asarray(tree.levels[0][1]).reshape(4, 3))     # the node of sites 2, 3
    # a leaf node keeps the leading eigenvectors of its pair's reduced state
    psi = (v / np.linalg.norm(v)).reshape(4, 4, 16).transpose(1, 0, 2).reshape(4, -1)
    top = np.linalg.eigh(psi @ psi.conj().T)[1][:, -3:]
    for u in kept:
        np.testing.assert_allclose(u @ u.conj().T, top @ top.conj().T, atol=1e-10)


def test_gates_and_read_outs_match_dense():
    n, v, w = 8, _vector(8, 1), _vector(8, 2)
    rng = np.random.default_rng(3)
    pairs = tn.su4(rng.normal(size=(n // 2, 15)), xp=np)
    singles = np.stack([tn.gate_matrix("U3", rng.normal(size=3), xp=np) for _ in range(n)])
    tree = ttn.apply_pair_layer(TREE.apply_single_site_layer(TREE.encode(v), singles), pairs)
    ref = DENSE.apply_two_site_sequence(DENSE.apply_single_site_layer(DENSE.encode(v), singles),
                                        np.arange(0, n, 2), pairs)
    np.testing.assert_allclose(TREE.amplitudes(tree), DENSE.amplitudes(ref), atol=1e-10)
    observable = [(0.5, "Z0 X3"), (-1.2, "Y5 Y6"), (2.0, "X7")]
    assert float(TREE.expectation_pauli(tree, observable)) == pytest.approx(
        float(DENSE.expectation_pauli(ref, observable)), abs=1e-10)
    assert complex(TREE.overlap(TREE.encode(w), tree)) == pytest.approx(
        complex(DENSE.overlap(DENSE.encode(w), ref)), abs=1e-9)
    assert float(TREE.norm(TREE.scale(tree, -2j))) == pytest.approx(2 * np.linalg.norm(v))
    product = TREE.product_state("0+1-")
    np.testing.assert_allclose(TREE.amplitudes(product),
                               DENSE.amplitudes(DENSE.product_state("0+1-")), atol=1e-12)


def test_a_level_is_one_vmap_over_a_batch_of_trees():
    vs = [_vector(4, s) for s in range(3)]
    batch = jax.tree.map(lambda *x: jnp.stack(x), *[ttn.from_dense(v) for v in vs])
    values = jax.jit(jax.vmap(lambda t: ttn.expectation_pauli(t, "Z1 Z2")))(batch)
    expected = [DENSE.expectation_pauli(DENSE.encode(v), "Z1 Z2") for v in vs]
    np.testing.assert_allclose(values, expected, atol=1e-10)


@pytest.mark.parametrize("n", [2, 8])
def test_pooling_circuit_agrees_on_tree_dense_and_mps(n):
    v, circuit = _vector(n, 10 + n), _circuit(n.bit_length() - 1, n)
    exact = float(pooling_expectation(DENSE, DENSE.encode(v), circuit))
    on_tree = float(pooling_expectation(TREE, ttn.from_mps(tn.mps_from_dense(v)), circuit))
    on_mps = float(pooling_expectation(MPS, tn.with_bond_cap(tn.mps_from_dense(v), 16),
                                       circuit))
    assert on_tree == pytest.approx(exact, abs=1e-10)
    assert on_mps == pytest.approx(exact, abs=1e-10)
    assert len(pooling_gates(circuit, n)) == n // 2 + 3 * (n // 2 - 1) + 1


def test_gradients_through_gates_and_pooling_equal_dense():
    v, circuit = _vector(4, 7), _circuit(2, 8)
    pairs = tn.su4(np.random.default_rng(9).normal(size=(2, 15)), xp=np)
    tree, ref = TREE.encode(v), DENSE.encode(v)

    def value(c, p, backend, state):
        if backend is TREE:
            state = ttn.apply_pair_layer(state, p)
        else:
            state = backend.apply_two_site_sequence(state, np.array([0, 2]), p)
        return pooling_expectation(backend, state, c)

    grad = jax.grad(value, argnums=(0, 1))
    g_tree, g_dense = grad(circuit, pairs, TREE, tree), grad(circuit, pairs, DENSE, ref)
    for a, b in zip(jax.tree.leaves(g_tree), jax.tree.leaves(g_dense)):
        np.testing.assert_allclose(a, b, atol=1e-10)
    assert max(float(np.abs(g).max()) for g in jax.tree.leaves(g_dense)) > 1e-3


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="power-of-two number of leaves.*got 6 sites"):
        ttn.from_dense(np.ones(2**6 // 2**3 * 8))        # 64 amplitudes = 6 sites
    with pytest.raises(ValueError, match="power-of-two number of leaves.*got 3 sites"):
        ttn.from_mps(tn.mps_from_dense(np.ones(8)))
    with pytest.raises(ValueError, match="past one qubit"):
        check_pooling(8, 4)
    with pytest.raises(ValueError, match="past one qubit"):
        check_pooling(1, 0)
    with pytest.raises(NotImplementedError, match="tree backend has no MPO application"):
        TREE.apply_mpo(tn.mpo_identity(4), TREE.encode(np.ones(16)))
