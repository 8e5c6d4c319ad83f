"""The spectral norm ||M||_2 of an MPO at any size, bounded from both sides.

Upper bound: the Frobenius norm ||M||_F (exact, one transfer-matrix sweep). Lower bound:
||M v|| / ||v|| for the MPS ``v`` that power iteration (M^dagger M) reaches (any ``v`` gives a
valid lower bound, so compressing the iterate only slows convergence, never spoils the bound).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.algebra import apply_mpo
from qtnet.tn.contract import network_norm_sq
from qtnet.tn.mpo import MPO
from qtnet.tn.mps import random_mps
from qtnet.tn.mps_pytree import MPS


def mpo_adjoint(mpo: MPO) -> MPO:
    """M^dagger: "l o i r" -> conj "l i o r"."""
    return MPO(jnp.conj(mpo.tensors).transpose(0, 1, 3, 2, 4))


def gram_expectation(mps: MPS, mpo: MPO) -> jax.Array:
    """<v|M^dagger M|v> / <v|v> = ||M v||^2 / ||v||^2, exact (no compression)."""
    c, w = mps.bond_cap, mpo.bond_cap
    start = jnp.zeros((c, w, w, c), mps.dtype).at[0, 0, 0, 0].set(1.0)
    ops = mpo.tensors.astype(mps.dtype)

    def step(env, sites):
        b, o = sites
        # env [bra, M^dagger, M, ket]; b "l p r", o "l o i r"
        env = jnp.einsum("axyb,aie,xkiu,ykjv,bjf->euvf", env, jnp.conj(b), jnp.conj(o), o, b)
        scale = jnp.max(jnp.abs(env))
        return env / scale, jnp.log(scale)

    env, logs = jax.lax.scan(step, start, (mps.tensors, ops))
    return jnp.real(env[0, 0, 0, 0]) * jnp.exp(jnp.sum(logs)) / network_norm_sq(mps)


def mpo_frobenius_norm(mpo: MPO) -> float:
    """||M||_F of a concrete MPO (>= ||M||_2)."""
    t = np.asarray(mpo.tensors, np.complex128)
    env = np.zeros((t.shape[1], t.shape[1]), np.complex128)
    env[0, 0] = 1.0
    log_scale = 0.0
    for site in t:                                        # env [l1, l2] -> [r1, r2]
        env = np.einsum("ac,aoib,coid->bd", env, np.conj(site), site)
        size = np.abs(env).max()
        if size == 0:
            return 0.0
        env, log_scale = env / size, log_scale + np.log(size)
    return float(np.sqrt(max(np.real(env[0, 0]), 0.0) * np.exp(log_scale)))


def mpo_norm_lower_bound(mpo: MPO, *, iterations: int = 10, max_bond: int = 4,
                         seed: int = 0) -> float:
    """||M v|| / ||v|| after ``iterations`` power steps on M^dagger M (<= ||M||_2)."""
    adjoint = mpo_adjoint(mpo)
    dtype = jnp.result_type(mpo.dtype, jnp.float32)
    v = random_mps(jax.random.PRNGKey(seed), mpo.n_sites, 1, max_bond=max_bond, dtype=dtype)

    @jax.jit
    def run(v, mpo, adjoint):
        def body(_, v):
            return apply_mpo(adjoint, apply_mpo(mpo, v, max_bond=max_bond), max_bond=max_bond)
        return gram_expectation(jax.lax.fori_loop(0, iterations, body, v), mpo)

    return float(np.sqrt(max(float(run(v, mpo, adjoint)), 0.0)))


__all__ = ["gram_expectation", "mpo_adjoint", "mpo_frobenius_norm", "mpo_norm_lower_bound"]
