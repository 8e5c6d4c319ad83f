"""Gradients through the MPS engine: finite differences, MPS vs dense, degenerate cases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import qtnet.tn as tn
from qtnet.circuits import Circuit, expectation
from qtnet.tn import dense
from qtnet.tn.gates import FIXED_2Q, ry


def _circuit(params, n=5):
    c = Circuit(n)
    for q in range(n):
        c.ry(q, params[q])
    for q in range(n - 1):
        c.cnot(q, q + 1)
    c.su4(0, 3, params[n:n + 15])             # non-adjacent, general SU(4)
    for q in range(n):
        c.rz(q, params[n + 15 + q])
        c.rx(q, params[2 * n + 15 + q])
    return c


OBS = [(1.0, "Z2"), (0.5, "X0 Y3"), (-0.7, "Z1 Z4")]


def _loss(backend):
    return jax.jit(lambda p: expectation(_circuit(p), OBS, backend=backend))


def test_circuit_gradient_matches_finite_differences_and_dense():
    rng = np.random.default_rng(0)
    params = jnp.asarray(rng.uniform(-np.pi, np.pi, 3 * 5 + 15))
    mps_loss, dense_loss = _loss("mps"), _loss("dense")
    value, grad = jax.value_and_grad(mps_loss)(params)
    d_value, d_grad = jax.value_and_grad(dense_loss)(params)
    assert float(value) == pytest.approx(float(d_value), abs=1e-10)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(d_grad), atol=1e-9)
    h = 1e-5
    for k in rng.choice(params.size, 6, replace=False):
        e = jnp.zeros_like(params).at[k].set(h)
        fd = (mps_loss(params + e) - mps_loss(params - e)) / (2 * h)
        assert float(grad[k]) == pytest.approx(float(fd), abs=1e-7)


def _adjacent_circuit(params, n=6):
    c = Circuit(n)
    for q in range(n):
        c.ry(q, params[q])
    for q in range(n - 1):
        c.cnot(q, q + 1)
    c.su4(1, 2, params[n:n + 15])
    for q in range(0, n - 1, 2):
        c.cz(q, q + 1)
    for q in range(n):
        c.rz(q, params[n + 15 + q])
        c.rx(q, params[2 * n + 15 + q])
    return c


def test_gradient_at_product_state_and_degenerate_schmidt_values():
    obs = OBS + [(0.3, "X1 X2")]
    mps_loss = jax.jit(lambda p: expectation(_adjacent_circuit(p), obs, backend="mps"))
    dense_loss = jax.jit(lambda p: expectation(_adjacent_circuit(p), obs, backend="dense"))
    zero = jnp.zeros(3 * 6 + 15)                 # CNOT chain on |0...0>: a product state
    ghz = zero.at[0].set(np.pi / 2)              # RY(pi/2) then CNOTs: GHZ, Schmidt (1,1)/sqrt2
    for params in (zero, ghz):
        g = jax.grad(mps_loss)(params)
        assert np.all(np.isfinite(np.asarray(g)))
        np.testing.assert_allclose(np.asarray(g), np.asarray(jax.grad(dense_loss)(params)),
                                   atol=1e-10)


def test_rank_raising_gradient_needs_room_in_the_bond():
    """At a product state, a routed gate's derivative raises bonds the cap must hold."""
    def loss(params, cap):
        prog = _circuit(params).program()
        state = tn.computational_basis_state([0] * 5, max_bond=cap)
        state = tn.apply_two_site_sequence(state, prog.sites, prog.gates)
        state = tn.apply_single_site_layer(state, prog.final)
        return tn.expectation_pauli(state, OBS)

    zero = jnp.zeros(3 * 5 + 15)
    reference = jax.grad(_loss("dense"))(zero)
    roomy = jax.grad(lambda p: loss(p, 16))(zero)
    np.testing.assert_allclose(np.asarray(roomy), np.asarray(reference), atol=1e-12)
    tight = jax.grad(lambda p: loss(p, 4))(zero)  # the exact bound: finite, but misses some
    assert np.all(np.isfinite(np.asarray(tight)))


def test_gradient_where_a_gate_is_the_identity_next_to_entangling_ones():
    """A kept null vector (a slot of zero Schmidt value whose site tensor is not zero) gains
    weight to first order: the next gate on its bond must count its rows as live. The first
    layer's gate on sites (0, 1) is the identity here; counting only nonzero Schmidt values
    put 4e-2 on its gradient (vmapped over two points), and 0.3 on an overlap's."""
    from qtnet.tn.gates import su4

    n, depth = 4, 3
    single = jnp.broadcast_to(jnp.eye(2, dtype=jnp.complex128), (depth, n, 2, 2))
    obs = [(1.0, "X0 X1"), (0.7, "Z0 X2"), (0.5, "Y1 Y2 Z3"), (0.4, "X2"), (0.3, "Z1")]

    def run(p, mod, **kw):
        state = mod.product_state("0" * n, dtype=jnp.complex128, **kw)
        return mod.apply_brickwork(state, single, su4(p))

    def value(p, mod, **kw):
        return jnp.real(mod.expectation_pauli(run(p, mod, **kw), obs))

    def amplitudes(p, mod, **kw):
        state = run(p, mod, **kw)
        psi = mod.to_dense(state)
        return jnp.real(psi @ jnp.asarray(np.random.default_rng(5).normal(size=2 ** n)))

    rng = np.random.default_rng(3)
    points = rng.uniform(-1, 1, (2, depth, n // 2, 15))
    points[:, 0, 0] = 0                                       # su4(0) is the identity
    points = jnp.asarray(points)
    mps = jax.vmap(jax.grad(lambda p: value(p, tn, max_bond=8)))(points)
    np.testing.assert_allclose(mps, jax.vmap(jax.grad(lambda p: value(p, dense)))(points),
                               atol=1e-10)
    mps = jax.grad(lambda p: amplitudes(p, tn, max_bond=8))(points[0])
    np.testing.assert_allclose(mps, jax.grad(lambda p: amplitudes(p, dense))(points[0]),
                               atol=1e-10)


def test_truncated_brickwork_gradient_is_finite_and_close_to_fd():
    n, depth, chi = 8, 6, 4
    pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], jnp.complex128), (depth, n // 2, 4, 4))
    z = np.tile(np.eye(2), (n, 1, 1)).astype(complex)
    z[n // 2] = np.diag([1.0, -1.0])

    @jax.jit
    def loss(theta):
        state = tn.computational_basis_state([0] * n, max_bond=chi)
        state = tn.apply_brickwork(state, ry(theta), pairs)
        return jnp.real(tn.expectation_local(state, z))

    theta = jnp.asarray(np.random.default_rng(1).uniform(0, 2 * np.pi, (depth, n)))
    g = jax.grad(loss)(theta)
    assert np.all(np.isfinite(np.asarray(g)))
    h = 1e-5
    for idx in [(0, 0), (2, 3), (5, 7)]:
        e = jnp.zeros_like(theta).at[idx].set(h)
        fd = (loss(theta + e) - loss(theta - e)) / (2 * h)
        assert float(g[idx]) == pytest.approx(float(fd), abs=1e-5)


@pytest.mark.slow
def test_gradient_through_mpo_add_hadamard_and_overlap():
    """|<r|M v + v * v>|^2 / ||M v + v * v||^2 with v = x0 psi + x1 (amplitude-wise product;
    bond 4 holds 4 sites exactly): value and gradient equal numpy's formula and its central
    differences."""
    rng = np.random.default_rng(2)
    n = 4
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    mat = rng.normal(size=(2**n, 2**n))
    r = rng.normal(size=2**n)
    op = tn.mpo_from_dense(mat)
    ref = tn.mps_from_dense(r)

    @jax.jit
    def loss(x):
        state = tn.mps_from_dense(psi * x[0] + x[1])
        out = tn.apply_mpo(op, state, max_bond=4)
        out = tn.add(out, tn.hadamard(state, state, max_bond=4), max_bond=4)
        return jnp.abs(tn.overlap(ref, out)) ** 2 / tn.norm(out) ** 2

    def numpy_loss(x):
        v = psi * x[0] + x[1]
        out = mat @ v + v * v
        return abs(np.vdot(r, out)) ** 2 / np.vdot(out, out).real

    x = np.array([0.7, 0.2])
    assert float(loss(jnp.asarray(x))) == pytest.approx(numpy_loss(x), rel=1e-10)
    g = np.asarray(jax.grad(loss)(jnp.asarray(x)))
    h = 1e-6
    fd = [(numpy_loss(x + h * e) - numpy_loss(x - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_vmap_over_a_batch_of_input_states():
    rng = np.random.default_rng(3)
    n, batch = 5, 3
    vecs = rng.normal(size=(batch, 2**n))
    states = jax.vmap(lambda v: tn.mps_from_dense(v, max_bond=4))(jnp.asarray(vecs))
    assert states.tensors.shape == (batch, n, 4, 2, 4)
    gate = jnp.asarray(FIXED_2Q["CNOT"], jnp.complex128)

    def f(state):
        state = tn.apply_pair_layer(state, jnp.stack([gate, gate]), 0)
        return tn.expectation_pauli(state, "Z1 X2")

    batched = jax.vmap(f)(states)
    for b in range(batch):
        one = jax.tree.map(lambda x, b=b: x[b], states)
        assert float(batched[b]) == pytest.approx(float(f(one)), abs=1e-12)


def test_dense_backend_gradient_matches_mps_for_brickwork():
    n, depth = 6, 4
    pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], jnp.complex128), (depth, n // 2, 4, 4))
    z = np.tile(np.eye(2), (n, 1, 1)).astype(complex)
    z[2] = np.diag([1.0, -1.0])

    def loss_mps(theta):
        s = tn.apply_brickwork(tn.computational_basis_state([0] * n, max_bond=8), ry(theta), pairs)
        return jnp.real(tn.expectation_local(s, z))

    def loss_dense(theta):
        s = dense.apply_brickwork(dense.product_state("0" * n), ry(theta), pairs)
        return jnp.real(dense.expectation_local(s, z))

    theta = jnp.asarray(np.random.default_rng(4).uniform(0, 6, (depth, n)))
    np.testing.assert_allclose(np.asarray(jax.grad(loss_mps)(theta)),
                               np.asarray(jax.grad(loss_dense)(theta)), atol=1e-10)


def _brickwork_grads(n, depth, cap):
    """jitted gradients of <Z_{n/2}>: complex64 MPS, and the exact complex128 statevector."""
    z = np.tile(np.eye(2), (n, 1, 1)).astype(complex)
    z[n // 2] = np.diag([1.0, -1.0])

    def mps_loss(theta):
        pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], jnp.complex64), (depth, n // 2, 4, 4))
        s = tn.computational_basis_state([0] * n, max_bond=cap, dtype=jnp.complex64)
        s = tn.apply_brickwork(s, ry(theta).astype(jnp.complex64), pairs)
        return jnp.real(tn.expectation_local(s, jnp.asarray(z, jnp.complex64)))

    def exact_loss(theta):
        pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], jnp.complex128), (depth, n // 2, 4, 4))
        s = dense.apply_brickwork(dense.product_state("0" * n), ry(theta), pairs)
        return jnp.real(dense.expectation_local(s, z))

    return jax.jit(jax.grad(mps_loss)), jax.jit(jax.grad(exact_loss))


def test_single_precision_gradient_matches_exact_statevector():
    """complex64 at the exact bond bound (8): the Gram-matrix update was off by ~3e-3 here."""
    n, depth = 8, 6
    grad32, grad64 = _brickwork_grads(n, depth, 8)
    rng = np.random.default_rng(5)
    generic = [rng.uniform(0, 2 * np.pi, (depth, n)) for _ in range(2)]
    # Clifford angles: flat (exactly degenerate) Schmidt spectra, split only by rounding.
    clifford = [rng.integers(0, 4, (depth, n)) * np.pi / 2 for _ in range(2)]
    for theta in generic + clifford:
        g = np.asarray(grad32(jnp.asarray(theta, jnp.float32)), np.float64)
        ref = np.asarray(grad64(jnp.asarray(theta)))
        assert np.all(np.isfinite(g))
        assert np.linalg.norm(g - ref) <= 2e-5 * max(np.linalg.norm(ref), 1.0)
