import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qtnet.tn.svd import svd, truncation_mask


def _gauge_invariant(a, weights):
    u, s, vh = svd(a)
    k = 2
    low_rank = (u[:, :k] * s[:k]) @ vh[:k]
    return jnp.sum(jnp.abs(low_rank) ** 2 * weights) + jnp.sum(s**3)


@settings(max_examples=4)
@given(shape=st.sampled_from([(3, 5), (4, 4)]), cplx=st.booleans(), seed=st.integers(0, 99))
def test_svd_gradient_matches_finite_differences(shape, cplx, seed):
    m, n = shape     # two shapes: each new shape costs a compile of the SVD and its JVP
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, n)) + (1j * rng.normal(size=(m, n)) if cplx else 0)
    w = rng.uniform(size=(m, n))
    da = rng.normal(size=(m, n)) + (1j * rng.normal(size=(m, n)) if cplx else 0)
    f = lambda x: _gauge_invariant(x, w)
    _, tangent = jax.jvp(f, (jnp.asarray(a),), (jnp.asarray(da),))
    h = 1e-6
    fd = (f(a + h * da) - f(a - h * da)) / (2 * h)
    assert abs(float(tangent) - float(fd)) < 1e-5 * max(1.0, abs(float(fd)))
    # Reverse mode agrees (JAX's complex convention: grad = df/dx - i df/dy).
    g = np.asarray(jax.grad(f)(jnp.asarray(a)))
    directional = np.real(np.sum(g * da))
    assert abs(directional - float(fd)) < 1e-5 * max(1.0, abs(float(fd)))


@pytest.mark.parametrize("a", [np.zeros((4, 4)).tolist(), np.eye(4).tolist(),
                               np.diag([1.0, 1.0, 0.0, 0.0]).tolist(),
                               np.diag([2.0, 1.0, 1.0, 0.0]).tolist()])
def test_svd_gradient_at_degeneracies_is_the_exact_one(a):
    """Degenerate and zero singular values: gauge-invariant functions keep their exact
    derivatives, d sum(s^2) = 2 A and d sum(s^3) = 3 A (A^T A)^(1/2) (here A is diagonal and
    non-negative: 3 A^2); a gauge-dependent one stays finite."""
    a = jnp.asarray(a)
    square = jax.grad(lambda x: jnp.sum(svd(x)[1] ** 2))(a)
    cube = jax.grad(lambda x: jnp.sum(svd(x)[1] ** 3))(a)
    np.testing.assert_allclose(square, 2 * np.asarray(a), atol=1e-12)
    np.testing.assert_allclose(cube, 3 * np.asarray(a) ** 2, atol=1e-12)
    g = jax.grad(lambda x: jnp.sum(svd(x)[1] ** 2) + jnp.abs(svd(x)[0][0, 0]) ** 2)(a)
    assert np.all(np.isfinite(np.asarray(g)))


def test_truncation_mask_cap_and_cutoff():
    s = jnp.asarray([0.9, 0.4, 0.1, 1e-4])
    assert truncation_mask(s, 3, 0.0).tolist() == [True, True, True, False]
    assert truncation_mask(s, 4, 1e-3).tolist() == [True, True, True, False]
    assert truncation_mask(s, 1, 0.0).tolist() == [True, False, False, False]


@pytest.mark.parametrize("cplx", [False, True])
def test_right_singular_orders_null_space_and_differentiates_exactly(cplx):
    from qtnet.tn.svd import right_singular

    rng = np.random.default_rng(7)
    n, rank = 8, 3                              # rank-deficient: 5 zero singular values
    def rand(*shape):
        return rng.normal(size=shape) + (1j * rng.normal(size=shape) if cplx else 0)

    favoured = np.array([1, 1, 1, 1, 1, 0, 0, 0], float)
    a = (rand(n, rank) @ rand(rank, n)) * favoured
    s, v = right_singular(jnp.asarray(a), jnp.asarray(favoured))
    np.testing.assert_allclose(np.asarray(s[:rank]), np.linalg.svd(a, compute_uv=False)[:rank])
    assert np.all(np.asarray(s[rank:]) == 0.0)
    weight_in_favoured = np.sum(np.abs(np.asarray(v)) ** 2 * favoured[:, None], axis=0)
    np.testing.assert_allclose(weight_in_favoured, [1] * 5 + [0] * 3, atol=1e-12)

    # A gauge-invariant function: the projector on the nonzero singular vectors (whose
    # derivative is the exact 1/s term against the null space) and s; tangents stay inside
    # the favoured columns.
    m = rand(n, n)
    m = m + np.conj(m.T)
    def f(x):
        s, v = right_singular(x, jnp.asarray(favoured))
        proj = v[:, :rank] @ jnp.conj(v[:, :rank]).T
        return jnp.real(jnp.trace(proj @ m)) + jnp.sum(s ** 3)

    da = rand(n, n) * favoured
    _, tangent = jax.jvp(f, (jnp.asarray(a),), (jnp.asarray(da),))
    h = 1e-6
    fd = (f(a + h * da) - f(a - h * da)) / (2 * h)
    assert float(tangent) == pytest.approx(float(fd), rel=1e-6)
    zero = jax.grad(f)(jnp.zeros((n, n), a.dtype))
    assert np.all(np.isfinite(np.asarray(zero)))


@pytest.mark.parametrize("shape,cplx", [((6, 3), False), ((3, 6), True), ((4, 4), False)])
def test_svd_derivative_under_jit_is_jaxs_exact_one_for_distinct_values(shape, cplx):
    # Under jit XLA may fuse s_i*s_i - s_i*s_i into an FMA that is not 0 on the diagonal; a
    # rule that divides by it puts ~1e-5 (float64) of noise on every derivative.
    with jax.enable_x64(True):
        rng = np.random.default_rng(7)
        a = rng.normal(size=shape) + (1j * rng.normal(size=shape) if cplx else 0)
        da = rng.normal(size=shape) + (1j * rng.normal(size=shape) if cplx else 0)
        ours = jax.jit(lambda x, t: jax.jvp(svd, (x,), (t,)))
        ref = jax.jit(lambda x, t: jax.jvp(
            lambda y: jnp.linalg.svd(y, full_matrices=False), (x,), (t,)))
        (u, s, vh), (du, ds, dvh) = ours(a, da)
        _, (du_r, ds_r, dvh_r) = ref(a, da)
        np.testing.assert_allclose(ds, ds_r, atol=1e-12)
        # the product's derivative (gauge-free), and u's and v's where the gauge is fixed
        d_prod = du @ (s[:, None] * vh) + u @ (ds[:, None] * vh) + u @ (s[:, None] * dvh)
        np.testing.assert_allclose(d_prod, da, atol=1e-12)
        if not cplx:          # real: JAX and qtnet fix the same sign gauge
            np.testing.assert_allclose(du, du_r, atol=1e-12)
            np.testing.assert_allclose(dvh, dvh_r, atol=1e-12)


def test_right_singular_orders_the_null_space_only_where_it_is_used():
    """``order_below``: where every matrix of a stack has rank at or above it (or at the
    favoured column count) the SVD's own null vectors come back, with no QR; one matrix
    below it orders every favoured null space of the stack; vmap agrees with the stack."""
    from qtnet.tn.svd import right_singular

    rng = np.random.default_rng(11)
    n = 8
    favoured = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0])     # slots 1, 4 unreachable
    full = (rng.normal(size=(n, 6)) @ rng.normal(size=(6, n))) * favoured     # rank 6 = |fav|
    low = (rng.normal(size=(n, 2)) @ rng.normal(size=(2, n))) * favoured      # rank 2
    stack = jnp.asarray(np.stack([full, low]))
    fav = jnp.asarray(np.stack([favoured, favoured]))
    raw_v = np.conj(np.swapaxes(np.asarray(jnp.linalg.svd(stack, full_matrices=False)[2]), -1, -2))

    def weight_in_favoured(v):
        return np.sum(np.abs(np.asarray(v)) ** 2 * favoured[:, None], axis=-2)

    # The unordered null space of `low` mixes favoured and other slots; ordered, it does not.
    assert np.any(np.abs(weight_in_favoured(raw_v[1])[2:] - 0.5) < 0.45)
    for below in ([8, 2], [6, 1]):                      # nothing to order: the SVD's vectors
        _, v = right_singular(stack, fav, False, jnp.asarray(below))
        np.testing.assert_array_equal(np.asarray(v), raw_v)
    _, v = right_singular(stack, fav, False, jnp.asarray([8, 4]))   # `low` is below 4
    np.testing.assert_allclose(weight_in_favoured(v[1]), [1] * 6 + [0] * 2, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(v[0][:, :6]), raw_v[0][:, :6])  # nonzero: as given
    mapped = jax.vmap(lambda a, f, b: right_singular(a, f, False, b))(stack, fav,
                                                                    jnp.asarray([8, 4]))
    np.testing.assert_array_equal(np.asarray(mapped[1]), np.asarray(v))
