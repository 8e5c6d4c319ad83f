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
                               np.diag([1.0, 1.0, 0.0, 0.0]).tolist()])
def test_svd_gradient_finite_at_degeneracies(a):
    a = jnp.asarray(a)
    g = jax.grad(lambda x: jnp.sum(svd(x)[1] ** 2) + jnp.abs(svd(x)[0][0, 0]) ** 2)(a)
    assert np.all(np.isfinite(np.asarray(g)))


def test_truncation_mask_cap_and_cutoff():
    s = jnp.asarray([0.9, 0.4, 0.1, 1e-4])
    assert truncation_mask(s, 3, 0.0).tolist() == [True, True, True, False]
    assert truncation_mask(s, 4, 1e-3).tolist() == [True, True, True, False]
    assert truncation_mask(s, 1, 0.0).tolist() == [True, False, False, False]
