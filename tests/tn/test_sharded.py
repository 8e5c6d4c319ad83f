"""One MPS split over 4 host devices (a subprocess with
XLA_FLAGS=--xla_force_host_platform_device_count=4, tests/tn/sharded_check.py): the brickwork
value, gradient and final state equal the one-device run; bad splits are refused."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh

from qtnet.tn import product_state, sharded
from tests.helpers import run_on_host_devices


@pytest.fixture(scope="module")
def results():
    return run_on_host_devices("tn/sharded_check.py", timeout=900)


@pytest.mark.slow
# Both vmap the same pair update (equal bit for bit here). Float32 site tensors to 1e-6:
# a per-pair loop on the split side (lax.map) was 4e-6 off; vmaps of other batch sizes can
# still round differently (docs/sharded.md).
@pytest.mark.parametrize("dtype, tol, state_tol", [("float64", 1e-12, 1e-12),
                                                   ("float32", 1e-6, 1e-6)])
def test_value_gradient_and_state_equal_one_device(results, dtype, tol, state_tol):
    case = results[dtype]
    assert case["tensor_sharding"] == "P('sites',)"
    assert case["grad_norm"] > 0.1                    # a gradient worth comparing
    assert case["value_diff"] <= tol * max(1.0, abs(case["value"]))
    assert case["grad_diff"] <= tol * case["grad_norm"]
    assert case["state_diff"] <= state_tol
    assert case["log_fidelity_diff"] <= tol


@pytest.mark.slow
def test_truncation_is_tracked_across_shards(results):
    assert results["float64"]["log_fidelity"] < -1e-3        # the cap bound
    assert results["float32"]["log_fidelity"] == 0.0          # untruncated


@pytest.mark.slow
def test_each_device_holds_a_quarter_of_the_site_tensors(results):
    total = results["tensor_bytes_total"]
    assert results["tensor_bytes"] == [total // 4] * 4


@pytest.mark.slow
def test_a_split_with_an_odd_number_of_sites_per_device_is_refused(results):
    assert "multiple of 8" in results["uneven_error"]


def test_mesh_and_state_are_checked_before_any_work():
    mesh = sharded.site_mesh()
    odd = product_state(np.tile([1.0, 0.0], (3, 1)), dtype=jnp.float64)
    with pytest.raises(ValueError, match="multiple of 2"):
        sharded.shard_mps(odd, mesh)
    other = Mesh(np.array(mesh.devices), ("data",))
    with pytest.raises(ValueError, match="axis 'sites'"):
        sharded.shard_mps(product_state(np.tile([1.0, 0.0], (4, 1))), other)
    state = product_state(np.tile([1.0, 0.0], (4, 1)), dtype=jnp.float64)
    with pytest.raises(ValueError, match="expected single"):
        sharded.apply_brickwork(state, jnp.zeros((2, 4, 2, 2)), jnp.zeros((2, 3, 4, 4)), mesh)


def test_per_matrix_lapack_is_a_loop_with_the_batched_numbers():
    """The split update's SVD and QR run one matrix per LAPACK call on CPU (a batched call
    hangs host devices), with the numbers and derivative of the batched call."""
    from qtnet.tn.svd import right_singular

    a = jnp.asarray(np.random.default_rng(3).normal(size=(3, 6, 6)))
    favoured = jnp.ones((3, 6))

    def loss(a, per_matrix):
        s, v = jax.vmap(lambda x, f: right_singular(x, f, per_matrix))(a, favoured)
        return jnp.sum(s) + jnp.sum(v[..., 0] ** 2 * jnp.arange(6.0))

    batched = jax.jit(jax.value_and_grad(lambda a: loss(a, False)))
    looped = jax.jit(jax.value_and_grad(lambda a: loss(a, True)))
    assert "while" not in batched.lower(a).as_text()
    assert looped.lower(a).as_text().count("stablehlo.while") == 2          # SVD and QR
    (v1, g1), (v2, g2) = batched(a), looped(a)
    np.testing.assert_allclose(v2, v1, rtol=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-11, atol=1e-13)
