"""Gates and read-outs on a tree tensor network: one vmapped contraction per level.

Gates on the pairs ``(2j, 2j + 1)`` under one leaf node are absorbed into that node exactly
(a unitary keeps it an isometry); read-outs contract bra and ket from the leaves to the root,
carrying one ``[bra bond, ket bond]`` matrix per node.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from qtnet.tn.mpo import pauli_terms
from qtnet.tn.shapes import (LocalOperators, PairLayer, RealScalar, Scalar, SingleSiteLayer)
from qtnet.tn.ttn.network import TTN


def _with_leaves(tree: TTN, leaves) -> TTN:
    return dataclasses.replace(tree, levels=(leaves, *tree.levels[1:]))


def apply_pair_layer(tree: TTN, gates: PairLayer) -> TTN:
    """``gates[j]`` ([d*d, d*d], first qubit = site 2j) on every pair ``(2j, 2j + 1)``."""
    t0 = tree.levels[0]
    m, d = t0.shape[0], t0.shape[1]
    gates = jnp.asarray(gates)
    if gates.shape != (m, d * d, d * d):
        raise ValueError(f"a pair layer of a {tree.n_sites}-site tree is [{m}, {d * d}, "
                         f"{d * d}] (one gate per pair (2j, 2j+1)), got {gates.shape}")
    g = gates.astype(jnp.result_type(t0.dtype, gates.dtype)).reshape(m, d, d, d, d)
    return _with_leaves(tree, jnp.einsum("jPQpq,jpqb->jPQb", g, t0))   # "l r p" kept


def apply_single_site_layer(tree: TTN, gates: SingleSiteLayer) -> TTN:
    """``gates[i]`` on site ``i`` (a unitary layer keeps the isometries)."""
    t0 = tree.levels[0]
    gates = jnp.asarray(gates)
    if gates.shape != (tree.n_sites, t0.shape[1], t0.shape[1]):
        raise ValueError(f"a single-site layer of a {tree.n_sites}-site tree is "
                         f"[{tree.n_sites}, d, d], got {gates.shape}")
    g = gates.astype(jnp.result_type(t0.dtype, gates.dtype))
    return _with_leaves(tree, jnp.einsum("jPp,jQq,jpqb->jPQb", g[0::2], g[1::2], t0))


@jax.jit
def _sandwich(bra: TTN, ket: TTN, local_ops) -> Scalar:
    """``<bra| (x)_i local_ops[i] |ket>`` of the networks (norms not included)."""
    b0, k0 = bra.levels[0], ket.levels[0]
    ops = jnp.asarray(local_ops).astype(jnp.result_type(k0.dtype, b0.dtype))
    env = jnp.einsum("jPQB,jPp,jQq,jpqb->jBb", b0.conj(), ops[0::2], ops[1::2], k0)
    for bt, kt in zip(bra.levels[1:], ket.levels[1:]):
        left, right = env[0::2], env[1::2]
        env = jnp.einsum("jXYB,jXx,jYy,jxyb->jBb", bt.conj(), left, right, kt,
                         optimize="optimal")
    return env[0, 0, 0]


def overlap(bra: TTN, ket: TTN) -> Scalar:
    """<bra|ket>, norms included."""
    if bra.n_sites != ket.n_sites:
        raise ValueError(f"overlap of trees on {bra.n_sites} and {ket.n_sites} sites")
    eye = jnp.broadcast_to(jnp.eye(ket.phys_dim, dtype=ket.dtype),
                           (ket.n_sites, ket.phys_dim, ket.phys_dim))
    return _sandwich(bra, ket, eye) * jnp.exp(bra.log_norm + ket.log_norm)


def norm(tree: TTN) -> RealScalar:
    """||psi||."""
    return jnp.sqrt(jnp.real(overlap(tree, tree)))


@jax.jit
def expectation_local(tree: TTN, local_ops: LocalOperators):
    """``<(x)_i local_ops[t, i]> / <psi|psi>`` for each term ``t`` of ``[terms, n, d, d]``."""
    eye = jnp.broadcast_to(jnp.eye(tree.phys_dim, dtype=tree.dtype),
                           (tree.n_sites, tree.phys_dim, tree.phys_dim))
    values = jax.vmap(lambda o: _sandwich(tree, tree, o))(jnp.asarray(local_ops))
    return values / _sandwich(tree, tree, eye)


def expectation_pauli(tree: TTN, observable) -> RealScalar:
    """<O> / <psi|psi> of a Pauli string or a list of (coefficient, string) pairs."""
    coeffs, local_ops = pauli_terms(observable, tree.n_sites)
    values = expectation_local(tree, local_ops)
    return jnp.real(jnp.sum(jnp.asarray(coeffs).astype(values.dtype) * values))


def scale(tree: TTN, factor) -> TTN:
    """``factor |psi>``: the modulus to ``log_norm``, the phase into the root."""
    factor = jnp.asarray(factor)
    root = tree.levels[-1] * (factor / jnp.abs(factor)).astype(tree.dtype)
    return dataclasses.replace(tree, levels=(*tree.levels[:-1], root),
                               log_norm=tree.log_norm + jnp.log(jnp.abs(factor)))
