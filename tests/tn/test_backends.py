"""The backend registry and protocol: every registered backend equals a numpy statevector
reference on the same operations (n = 4, float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet import tn
from qtnet.tn import backends

N = 4


def test_registry_names_and_errors():
    assert backends.names()[:2] == ("mps", "dense")
    assert backends.get("mps") is backends.get(backends.get("mps"))
    with pytest.raises(ValueError,
                       match="unknown backend 'peps'; valid backends: dense, mps, tn, tree"):
        backends.get("peps")
    with pytest.raises(ValueError, match="already registered"):
        backends.register(backends.get("dense"))
    assert len({backends.get(n) for n in backends.names()}) == len(backends.names())  # hashable
    state = backends.get("dense").encode(np.ones(4), dtype=jnp.float64)
    assert backends.is_state(state) and backends.of_state(state).name == "dense"
    assert not backends.is_state(np.ones(4))


def _vectors(seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=2**N), rng.normal(size=2**N)


@pytest.mark.parametrize("name", ["mps", "dense"])
def test_operations_match_the_statevector(name):
    ops = backends.get(name)
    a, b = _vectors(0)
    with jax.enable_x64(True):
        sa = ops.encode(a, dtype=jnp.float64)
        sb = ops.encode(b, dtype=jnp.float64)
        m = np.random.default_rng(1).normal(size=(2**N, 2**N))
        mpo = tn.mpo_from_dense(m, dtype=jnp.float64)
        checks = {
            "encode": (ops.amplitudes(sa), a),
            "add": (ops.amplitudes(ops.add(sa, sb)), a + b),
            "scale": (ops.amplitudes(ops.scale(sa, -2.5)), -2.5 * a),
            "hadamard": (ops.amplitudes(ops.hadamard(sa, sb)), a * b),
            "apply_mpo": (ops.amplitudes(ops.apply_mpo(mpo, sa)), m @ a),
            "overlap": (ops.overlap(sa, sb), a @ b),
            "norm": (ops.norm(sa), np.linalg.norm(a)),
            "expectation_mpo": (ops.expectation_mpo(sa, mpo), a @ m @ a / (a @ a)),
            "marginal": (ops.marginal_probabilities(sa, 2),
                         (a**2).reshape(4, -1).sum(1) / (a @ a)),
        }
        z0 = np.kron(np.diag([1.0, -1.0]), np.eye(2 ** (N - 1)))
        checks["pauli"] = (ops.expectation_pauli(sa, "Z0"), a @ z0 @ a / (a @ a))
        for what, (got, want) in checks.items():
            np.testing.assert_allclose(np.asarray(got), want, atol=1e-10, err_msg=what)
        assert float(ops.fidelity(sa)) == pytest.approx(1.0)
        assert ops.astype(sa, jnp.complex128).dtype == jnp.complex128


def test_truncation_is_ignored_by_dense_and_measured_by_mps():
    a, _ = _vectors(2)
    with jax.enable_x64(True):
        exact = backends.get("dense").encode(a, max_bond=1, dtype=jnp.float64)
        cut = backends.get("mps").encode(a, max_bond=1, dtype=jnp.float64)
        assert float(backends.get("dense").fidelity(exact)) == 1.0
        assert float(backends.get("mps").fidelity(cut)) < 1.0


@pytest.mark.parametrize("bonds", [(1, 1, 1, 1, 1), (2, 4, 3, 2, 1), (2, 4, 8, 4, 2)])
def test_dense_max_bond_used_is_the_largest_schmidt_rank(bonds):
    """A random 6-site MPS with these bonds, contracted to a vector: the statevector's
    reported bond is the largest bond (generic tensors have full Schmidt rank)."""
    rng = np.random.default_rng(sum(bonds))
    shapes = zip((1,) + bonds, bonds + (1,))
    vector = np.ones((1, 1))
    for left, right in shapes:
        site = rng.normal(size=(left, 2, right)) + 1j * rng.normal(size=(left, 2, right))
        vector = np.tensordot(vector, site, axes=(1, 0)).reshape(-1, right)
    state = tn.dense.from_vector(vector.reshape(-1), n_sites=6, dtype=jnp.complex128)
    assert state.max_bond_used() == max(bonds)
