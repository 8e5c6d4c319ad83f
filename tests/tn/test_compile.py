"""Compile time flat in size: the traced program must not grow with sites or depth."""

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np

import qtnet.tn as tn
from qtnet.tn.gates import FIXED_2Q, ry


def _jaxpr_size(n, depth, chi=4):
    pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], jnp.complex128), (depth, n // 2, 4, 4))
    z = np.tile(np.eye(2), (n, 1, 1)).astype(complex)

    def loss(theta):
        state = tn.computational_basis_state([0] * n, max_bond=chi)
        state = tn.apply_brickwork(state, ry(theta), pairs)
        return jnp.real(tn.expectation_local(state, z))

    jaxpr = jax.make_jaxpr(jax.value_and_grad(loss))(jnp.zeros((depth, n)))
    return _count_eqns(jaxpr.jaxpr)


def _count_eqns(jaxpr):
    total = 0
    for eqn in jaxpr.eqns:
        total += 1
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            total += _count_eqns(sub)
    return total


def test_traced_program_size_is_independent_of_sites_and_depth():
    base = _jaxpr_size(8, 4)
    assert _jaxpr_size(64, 4) == base
    assert _jaxpr_size(8, 12) == base
