"""Real circuits in real arithmetic (evolve.apply_brickwork_real) and the gates' realness flags."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import qtnet.tn as tn
from qtnet.tn import dense, evolve
from qtnet.tn.gates import FIXED_2Q, gate_arity, gate_matrix, is_real_gate, known_gates, rx, ry

N, DEPTH = 6, 5


def _z_ops(dtype):
    ops = np.tile(np.eye(2), (N, 1, 1)).astype(complex)
    ops[N // 2] = np.diag([1.0, -1.0])
    return jnp.asarray(ops, dtype)


CHI = 3                                           # below the circuit's bound 8: the cap binds


def _pairs(dtype):
    return jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], dtype), (DEPTH, N // 2, 4, 4))


def _value_and_grad(apply, gate_dtype):
    """(value, state), grads in (phi, theta) of <Z_{N/2}> after an RY/CZ brickwork from the
    product state of (cos phi_i, e^{i phase} sin phi_i): real for phase = 0."""
    def loss(phi, theta, phase):
        vectors = jnp.stack([jnp.cos(phi), jnp.exp(1j * phase) * jnp.sin(phi)], -1)
        state = tn.product_state(vectors, max_bond=CHI, dtype=jnp.complex128)
        state = apply(state, ry(theta).astype(gate_dtype), _pairs(gate_dtype))
        return jnp.real(tn.expectation_local(state, _z_ops(jnp.complex128))), state

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))


@pytest.fixture(scope="module")
def angles():
    rng = np.random.default_rng(3)
    return jnp.asarray(rng.uniform(0, np.pi, N)), jnp.asarray(rng.uniform(0, 2 * np.pi, (DEPTH, N)))


@pytest.fixture(scope="module")
def theta(angles):
    return angles[1]


@pytest.fixture(scope="module")
def real_step():
    return _value_and_grad(evolve.apply_brickwork_real, jnp.float64)


def _zero_state(chi=CHI):
    return tn.computational_basis_state([0] * N, max_bond=chi)


def test_real_arithmetic_equals_complex_arithmetic_where_the_cap_binds(angles, real_step):
    """Value and gradients, in the gates' angles and in the initial state's (real) ones."""
    (value, state), grads = real_step(*angles, 0.0)
    complex_step = _value_and_grad(evolve.apply_brickwork, jnp.complex128)
    (want_value, want_state), want_grads = complex_step(*angles, 0.0)
    assert float(state.log_fidelity) < -1e-3                       # truncated
    np.testing.assert_allclose(value, want_value, atol=1e-12)
    for grad, want in zip(grads, want_grads):
        np.testing.assert_allclose(grad, want, atol=1e-10)
    np.testing.assert_allclose(state.log_fidelity, want_state.log_fidelity, atol=1e-12)
    assert state.tensors.dtype == jnp.complex128                   # cast back
    np.testing.assert_allclose(tn.norm(state), 1.0, atol=1e-12)


def test_real_arithmetic_untruncated_equals_the_statevector(theta):
    run = jax.jit(lambda t: evolve.apply_brickwork_real(_zero_state(8), ry(t), _pairs(jnp.float64)))
    psi = dense.apply_brickwork(dense.product_state("0" * N), ry(theta).astype(jnp.complex128),
                                _pairs(jnp.complex128))
    np.testing.assert_allclose(tn.to_dense(run(theta)), dense.to_dense(psi), atol=1e-12)


def test_a_complex_state_comes_back_as_nan_not_as_a_wrong_real_state(angles, real_step):
    (value, out), _ = real_step(*angles, 0.3)                      # complex amplitudes
    assert np.all(np.isnan(np.asarray(out.tensors))) and np.isnan(value)


def test_complex_gates_are_rejected(theta):
    state = tn.computational_basis_state([0] * N, max_bond=4)
    pairs = np.broadcast_to(FIXED_2Q["CZ"], (DEPTH, N // 2, 4, 4))
    with pytest.raises(ValueError, match="single-site gates are complex128"):
        evolve.apply_brickwork_real(state, rx(theta), pairs)


@pytest.mark.parametrize("name", known_gates())
def test_realness_flag_matches_the_matrix_at_random_angles(name):
    rng = np.random.default_rng(0)
    count = {"SU4": 15, "U3": 3, "U": 3, "CU3": 3}.get(name, 1)
    for _ in range(3):
        try:
            m = gate_matrix(name, (), dtype=np.complex128, xp=np)
        except ValueError:                       # a parameterised gate
            m = gate_matrix(name, tuple(rng.uniform(0, 2 * np.pi, count)),
                            dtype=np.complex128, xp=np)
        assert m.shape == (2 ** gate_arity(name),) * 2
        if is_real_gate(name):
            assert np.all(np.imag(m) == 0), name
    if not is_real_gate(name):
        assert np.any(np.abs(np.imag(m)) > 1e-3), name


def test_unknown_gate_realness_is_an_error():
    with pytest.raises(ValueError, match="unknown gate 'foo'"):
        is_real_gate("foo")


def test_a_real_gate_sequence_in_real_arithmetic_equals_complex_arithmetic():
    rng = np.random.default_rng(5)
    sites = jnp.asarray(rng.integers(0, N - 1, 12), jnp.int32)
    names = rng.choice(["CNOT", "CZ", "SWAP", "CRY"], 12)
    gates = np.stack([gate_matrix(g, (rng.uniform(0, 6),) if g == "CRY" else (),
                                  dtype=np.float64, xp=np) for g in names])
    gates = gates @ np.kron(ry(rng.uniform(0, 6, (12, 1)), xp=np)[:, 0], np.eye(2))  # + RY
    state = tn.apply_single_site_layer(_zero_state(), ry(rng.uniform(0, 6, N), xp=np))
    got = jax.jit(evolve.apply_two_site_sequence_real)(state, sites, gates)
    want = jax.jit(evolve.apply_two_site_sequence)(state, sites, gates.astype(complex))
    assert got.tensors.dtype == jnp.complex128 and float(want.log_fidelity) < -1e-6
    np.testing.assert_allclose(tn.to_dense(got), tn.to_dense(want), atol=1e-12)
    with pytest.raises(ValueError, match="two-site gates are complex128"):
        evolve.apply_two_site_sequence_real(state, sites, gates.astype(complex))
