"""tensornetwork-ng round trips for MPS and MPO (numpy and jax backends), and an expectation
value computed by tensornetwork equal to qtnet's."""

import sys

import jax
import numpy as np
import pytest
import tensornetwork as tnw

import qtnet.tn as tn
from qtnet.tn import backends
from qtnet.tn.interop import from_tensornetwork, to_tensornetwork, to_tensornetwork_nodes

F64, C128 = np.float64, np.complex128


def dense_of_sites(tensors):
    """State vector of "l p r" site tensors (site 0 most significant), contracted here."""
    vec = np.ones((1, 1))
    for t in tensors:
        t = np.asarray(t)
        vec = np.einsum("xa,apb->xpb", vec, t).reshape(-1, t.shape[-1])
    return vec[:, 0]


def dense_of_mpo(tensors):
    """Matrix of "l r o i" site tensors."""
    m = np.ones((1, 1, 1))
    for t in tensors:
        t = np.asarray(t)
        m = np.einsum("xya,abij->xiyjb", m, t.transpose(0, 1, 2, 3))
        m = m.reshape(m.shape[0] * m.shape[1], m.shape[2] * m.shape[3], -1)
    return m[..., 0]


def random_state(seed, dtype, n=6, bond=3, cap=5, scale=2.5):
    return tn.scale(tn.random_mps(jax.random.PRNGKey(seed), n, bond, max_bond=cap,
                                  dtype=dtype), scale)


@pytest.mark.parametrize("seed, dtype, backend", [(0, F64, "numpy"), (1, C128, "jax")])
def test_mps_round_trip_keeps_norm_and_canonical_form(seed, dtype, backend):
    state = random_state(seed, dtype)
    expected = np.asarray(tn.to_dense(state))
    fin = to_tensornetwork(state, backend=backend)
    assert fin.backend.name == backend and fin.center_position == 0
    assert abs(complex(fin.check_canonical())) < 1e-12          # tensornetwork's own check
    np.testing.assert_allclose(dense_of_sites(fin.tensors), expected, atol=1e-12)
    assert abs(complex(fin.norm(fin.tensors[0]))) == pytest.approx(2.5, abs=1e-12)
    back = from_tensornetwork(fin, dtype=dtype)
    np.testing.assert_allclose(np.asarray(tn.to_dense(back)), expected, atol=1e-12)
    assert float(back.log_norm) == pytest.approx(float(state.log_norm), abs=1e-12)
    schmidt = np.asarray(back.schmidt)          # bonds cut to those in use: pad to compare
    schmidt = np.pad(schmidt, ((0, 0), (0, state.bond_cap - schmidt.shape[1])))
    np.testing.assert_allclose(schmidt, np.asarray(state.schmidt), atol=1e-12)


def test_any_gauge_of_a_tensornetwork_state_is_imported():
    rng = np.random.default_rng(3)
    d, D = [2] * 5, [2, 4, 3, 2]
    tensors = [rng.normal(size=(a, 2, b)) for a, b in zip([1, *D], [*D, 1])]
    raw = tnw.FiniteMPS([t.copy() for t in tensors], canonicalize=False, backend="numpy")
    mixed = tnw.FiniteMPS.random(d, D, dtype=F64, backend="numpy")
    mixed.position(3)
    for fin in (raw, mixed):
        state = from_tensornetwork(fin, dtype=F64)
        np.testing.assert_allclose(np.asarray(tn.to_dense(state)), dense_of_sites(fin.tensors),
                                   atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_pauli_mpo_round_trip(backend):
    mpo = tn.mpo_pauli([(0.5, "X0 Z3"), (1.0, "Y2"), (-0.3, "Z1 Z2")], 5, dtype=C128)
    fin = to_tensornetwork(mpo, backend=backend)
    assert fin.backend.name == backend
    np.testing.assert_allclose(dense_of_mpo(fin.tensors), np.asarray(tn.mpo_to_dense(mpo)),
                               atol=1e-12)
    back = from_tensornetwork(fin, dtype=C128)
    np.testing.assert_allclose(np.asarray(back.tensors), np.asarray(mpo.tensors), atol=1e-12)


def test_plain_nodes_contract_to_the_state_and_the_operator():
    state = random_state(0, F64)
    nodes = to_tensornetwork_nodes(state, backend="jax")
    order = [nodes[0][0], *[node[1] for node in nodes], nodes[-1][-1]]
    out = tnw.contractors.greedy(nodes, output_edge_order=order)
    np.testing.assert_allclose(np.asarray(out.tensor).ravel(), np.asarray(tn.to_dense(state)),
                               atol=1e-12)
    mpo = tn.mpo_pauli([(0.5, "X0 Y2"), (-1.0, "Z1")], 3, dtype=C128)
    nodes = to_tensornetwork_nodes(mpo)
    order = [nodes[0][0], *[n[1] for n in nodes], *[n[2] for n in nodes], nodes[-1][-1]]
    out = tnw.contractors.greedy(nodes, output_edge_order=order)
    np.testing.assert_allclose(np.asarray(out.tensor).reshape(8, 8),
                               np.asarray(tn.mpo_to_dense(mpo)), atol=1e-12)


def tensornetwork_expectation(fin_mps, fin_mpo):
    """<psi|W|psi> by tensornetwork's ncon on its own backend (the DMRG left-layer sweep)."""
    be = fin_mps.backend
    env = be.ones((1, 1, 1), dtype=fin_mps.dtype)
    for a, w in zip(fin_mps.tensors, fin_mpo.tensors):
        env = tnw.ncon([env, a, w, be.conj(a)], [[2, 1, 5], [1, 3, -2], [2, -1, 4, 3],
                                                [5, 4, -3]], backend=be.name)
    return complex(np.asarray(env).ravel()[0])


def test_expectation_on_the_tensornetwork_side_equals_qtnets(backend="jax"):
    state = random_state(4, C128, scale=1.0)
    observable = [(0.5, "X0 Z3"), (1.0, "Y2"), (-0.3, "Z1 Z2")]
    mpo = tn.mpo_pauli(observable, 6, dtype=C128)
    mps_ops = backends.get("mps")
    expected = float(mps_ops.expectation_pauli(state, observable))
    assert abs(expected) > 1e-3                                  # not trivially zero
    value = tensornetwork_expectation(to_tensornetwork(state, backend),
                                      to_tensornetwork(mpo, backend))
    assert value == pytest.approx(expected, abs=1e-12)
    z2 = np.diag([1.0, -1.0]).astype(C128)
    fin = to_tensornetwork(state, backend)
    (local,) = fin.measure_local_operator([fin.backend.convert_to_tensor(z2)], [2])
    assert complex(local) == pytest.approx(float(mps_ops.expectation_pauli(state, "Z2")),
                                           abs=1e-12)


def test_errors_name_the_problem(monkeypatch):
    state = random_state(0, F64)
    with pytest.raises(ValueError, match="numpy, jax"):
        to_tensornetwork(state, backend="torch")
    with pytest.raises(ValueError, match="MPS or MPO"):
        to_tensornetwork(np.zeros(4))
    with pytest.raises(ValueError, match="FiniteMPS or FiniteMPO"):
        from_tensornetwork(np.zeros(4))
    monkeypatch.setitem(sys.modules, "tensornetwork", None)
    with pytest.raises(ImportError, match=r"pip install 'qtnet\[tensornetwork\]'"):
        to_tensornetwork(state)
