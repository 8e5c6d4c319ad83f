"""Structured MPOs built directly (never as dense matrices): shifts, products, controls."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from qtnet.tn.mpo import MPO, mpo_from_local, mpo_identity, mpo_sum


def mpo_shift(n_bits: int, dtype=jnp.float64) -> MPO:
    """Cyclic increment |v> -> |v + 1 mod 2^n> on ``n_bits`` sites, bond 2.

    Bond index 0 carries "carry = 1" (what the last site receives: the +1), index 1 "carry
    = 0"; the first site drops its carry-out (the wrap-around).
    """
    if n_bits < 1:
        raise ValueError(f"a shift needs at least one bit, got {n_bits}")
    w = np.zeros((2, 2, 2, 2))                      # [carry out, out bit, in bit, carry in]
    for bit in (0, 1):
        for carry in (0, 1):
            total = bit + carry
            w[1 - total // 2, total % 2, bit, 1 - carry] = 1.0
    sites = np.broadcast_to(w, (n_bits, 2, 2, 2, 2)).copy()
    sites[0] = 0.0
    sites[0, 0] = w.sum(0)                          # either carry-out: wrap around
    return MPO(jnp.asarray(sites, dtype))


def mpo_transpose(mpo: MPO) -> MPO:
    """``M^T``: the output and input indices of every core swapped ("l o i r" -> "l i o r")."""
    return MPO(jnp.swapaxes(mpo.tensors, 2, 3))


def mpo_kron(*mpos: MPO) -> MPO:
    """``M_1 ⊗ M_2 ⊗ ...`` on consecutive sites (bond 1 between the factors)."""
    cap = max(m.bond_cap for m in mpos)
    dtype = jnp.result_type(*[m.dtype for m in mpos])
    # each core "l o i r", its bonds zero-padded to the common cap
    padded = [jnp.pad(m.tensors.astype(dtype), ((0, 0), (0, cap - m.bond_cap), (0, 0), (0, 0),
                                                (0, cap - m.bond_cap))) for m in mpos]
    return MPO(jnp.concatenate(padded))


def mpo_controlled(target: MPO, control_site: int, n_control: int, n_after: int) -> MPO:
    """``target ⊗ |1><1|_j + 1 ⊗ |0><0|_j`` on ``target | control register | n_after`` sites,
    with the control on qubit ``control_site`` of a register of ``n_control`` qubits."""
    dtype = target.dtype
    eye = np.eye(2)
    ops = {}
    for bit in (0, 1):
        local = np.broadcast_to(eye, (n_control, 2, 2)).copy()
        local[control_site] = np.diag([1.0 - bit, float(bit)])
        ops[bit] = mpo_from_local(local, dtype=dtype)
    tail = [mpo_identity(n_after, dtype=dtype)] if n_after else []
    on = mpo_kron(target, ops[1], *tail)
    off = mpo_kron(mpo_identity(target.n_sites, dtype=dtype), ops[0], *tail)
    return mpo_sum([on, off])
