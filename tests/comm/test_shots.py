"""Finite-shot estimates: unbiased, with the spread the copy count predicts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet.comm import parameter_shift_gradient, shot_estimate
from qtnet.parties import (BlockEncoding, Encode, Party, Protocol, Readout, Register,
                           Unitary, figure2_protocol)

F64 = jnp.float64
SEEDS, SHOTS = 400, 256


def _check_statistics(estimates, exact, per_shot_var):
    """Mean within 4 standard errors; spread within 10% of sqrt(var / shots)."""
    estimates = np.asarray(estimates)
    sd = np.sqrt(per_shot_var / SHOTS)
    assert abs(estimates.mean() - exact) < 4 * sd / np.sqrt(len(estimates))
    assert estimates.std(ddof=1) == pytest.approx(sd, rel=0.10)


@pytest.mark.parametrize("backend", ["dense", "mps"])
def test_pauli_sum_estimates(backend):
    obs = [(0.6, "Z0 Z2"), (-0.4, "X1"), (0.3, "Y0 Y1")]
    protocol = figure2_protocol(3, 1, depth=2, observable=obs)
    params = protocol.init_params(jax.random.PRNGKey(0), 1.0, F64)
    data = {"x": jnp.asarray([0.3, -1.0, 0.2, 0.8, 0.5, 0.1, -0.4, 0.9])}
    exact = float(protocol.run(params, data, backend=backend, dtype=F64))
    keys = jax.random.split(jax.random.PRNGKey(1), SEEDS)
    est = jax.jit(jax.vmap(lambda k: shot_estimate(protocol, params, data, k, SHOTS,
                                                   backend=backend, dtype=F64)))(keys)
    # Importance sampling: each shot is +-||c||_1 = +-1.3, so var = 1.3^2 - exact^2.
    _check_statistics(est, exact, 1.3**2 - exact**2)


def test_sub_normalised_state_and_overlap_readout():
    m = np.diag([0.5, -0.25])
    base = [Encode("a", "x"), BlockEncoding("b", "M", ("r",), 1.0)]
    parties = (Party("a"), Party("b"))
    data = {"x": jnp.asarray([0.6, 0.8]), "ref": jnp.asarray([1.0, 1.0])}
    expect = Protocol(parties, (Register("r", 1),), [*base, Readout("b", "Z0")])
    exact = float(expect.run({"M": m}, data, backend="dense", dtype=F64))
    keys = jax.random.split(jax.random.PRNGKey(2), SEEDS)
    est = jax.vmap(lambda k: shot_estimate(expect, {"M": m}, data, k, SHOTS, backend="dense",
                                           dtype=F64))(keys)
    success = 0.3**2 + 0.2**2                         # ||M x||^2 with alpha = 1
    _check_statistics(est, exact, success - exact**2)

    overlap = Protocol(parties, (Register("r", 1),), [*base, Readout("b", reference="ref")])
    exact = float(overlap.run({"M": m}, data, backend="dense", dtype=F64))
    est = jax.vmap(lambda k: shot_estimate(overlap, {"M": m}, data, k, SHOTS, backend="dense",
                                           dtype=F64))(keys)
    _check_statistics(est, exact, 1 - exact**2)


def test_parameter_shift_gradient_is_unbiased():
    protocol = figure2_protocol(3, 1, depth=1, observable="Z1")
    params = protocol.init_params(jax.random.PRNGKey(3), 1.0, F64)
    data = {"x": jnp.arange(1.0, 9.0)}
    exact = jax.grad(lambda p: protocol.run(p, data, backend="dense", dtype=F64))(params)
    keys = jax.random.split(jax.random.PRNGKey(4), 64)
    grads = jax.jit(jax.vmap(lambda k: parameter_shift_gradient(
        protocol, params, data, k, SHOTS, backend="dense", dtype=F64)))(keys)
    for name in params:
        mean, spread = np.mean(grads[name], 0), np.std(grads[name], 0)
        # each component: (two independent shot means of +-1 outcomes) / 2
        assert np.all(np.abs(mean - exact[name]) < 4 * np.sqrt(0.5 / SHOTS / 64) + 1e-12)
        assert np.all(spread < np.sqrt(0.5 / SHOTS) * 1.3)


def test_parameter_shift_refuses_su4():
    protocol = figure2_protocol(2, 1, ansatz="su4")
    params = protocol.init_params(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="su4 ansatz"):
        parameter_shift_gradient(protocol, params, {"x": jnp.ones(4)}, jax.random.PRNGKey(0), 8)


def test_training_on_shot_noise_estimates_lowers_the_exact_loss():
    """Gradient descent with parameter-shift gradients from finite shots, per-step keys
    fold_in(key, step): the exact loss goes down as it does with exact gradients."""
    import optax

    from qtnet.comm import shot_value_and_grad

    protocol = figure2_protocol(3, 1, depth=1, observable="Z0")
    params = protocol.init_params(jax.random.PRNGKey(5), 0.5, F64)
    data = {"x": jnp.arange(1.0, 9.0)}
    exact = jax.jit(lambda p: protocol.run(p, data, backend="dense", dtype=F64))
    step_fn = jax.jit(lambda p, k: shot_value_and_grad(protocol, p, data, k, 256,
                                                       backend="dense", dtype=F64))
    tx = optax.sgd(0.3)
    opt_state, key = tx.init(params), jax.random.PRNGKey(6)
    start = float(exact(params))
    for step in range(25):
        _, grads = step_fn(params, jax.random.fold_in(key, step))
        updates, opt_state = tx.update(grads, opt_state)
        params = optax.apply_updates(params, updates)
    # <Z0> is bounded below by -1: from about -0.78 to within 0.05 of the minimum.
    assert start > -0.8 and float(exact(params)) < -0.95, (start, float(exact(params)))


def _angles_and_operator_protocol():
    return Protocol((Party("a"),), (Register("r", 2),),
                    [Encode("a", "x"), Unitary("a", "U", ("r",), 1),
                     BlockEncoding("a", "M", ("r",), 1.5), Readout("a", observable="Z0")])


def test_parameter_shift_refuses_a_block_encoding_operator_in_params():
    protocol = _angles_and_operator_protocol()
    params = {"U": jnp.zeros((1, 2)), "M": jnp.eye(4)}
    with pytest.raises(ValueError, match=r"params\['M'\] is the operator of block encoding "
                                         r"step 2, which has no shift rule"):
        parameter_shift_gradient(protocol, params, {"x": jnp.ones(4)}, jax.random.PRNGKey(0), 8)
    with pytest.raises(ValueError, match=r"params 'extra' belong to no Unitary step"):
        parameter_shift_gradient(protocol, {"U": jnp.zeros((1, 2)), "extra": jnp.ones(3)},
                                 {"x": jnp.ones(4), "M": jnp.eye(4)}, jax.random.PRNGKey(0), 8)


def test_parameter_shift_with_a_fixed_block_encoding_shifts_only_the_angles():
    """The operator held in data: the shift-rule gradient of the angles is the exact one
    (a shifted operator would bias it by O(1))."""
    protocol = _angles_and_operator_protocol()
    params = {"U": jnp.array([[0.7, -0.4]], F64)}
    data = {"x": jnp.arange(1.0, 5.0, dtype=F64),
            "M": jnp.diag(jnp.array([1.5, 1.0, 0.5, 1.2], F64))}
    exact = jax.grad(lambda p: protocol.run(p, data, backend="dense", dtype=F64))(params)
    shots = 40000
    grad = parameter_shift_gradient(protocol, params, data, jax.random.PRNGKey(1), shots,
                                    backend="dense", dtype=F64)
    # each estimate: alpha^2 * mean of shots in [-1, 1]; the difference of two, halved
    tol = 5 * 1.5**2 * np.sqrt(0.5 / shots)
    np.testing.assert_allclose(np.asarray(grad["U"]), np.asarray(exact["U"]), atol=tol)
