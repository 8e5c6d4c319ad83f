"""One MPS across several devices: the site axis split over a 1-d mesh named ``"sites"``.

A state of ``n`` sites on ``P`` devices gives each device ``L = n / P`` consecutive sites
(``L`` even)::

    device 0            device 1            ...      device P-1
    [B_0 ... B_{L-1}]   [B_L ... B_{2L-1}]           [B_{n-L} ... B_{n-1}]
    schmidt[0 .. L-1]   schmidt[L .. 2L-1]           schmidt[n-L .. n-1]     (+ schmidt[n])

Site tensors are sharded (``tensors [n, chi, d, chi]`` with ``PartitionSpec("sites")``);
the Schmidt vectors ``[n + 1, chi]`` and ``ranks [n + 1]`` have one more row than sites, so
outside a computation they are replicated (``1 / (2 chi)`` of the site tensors' bytes, or
less); inside one, each device works on its own rows ``schmidt[pL .. pL + L - 1]``.

A brickwork layer (:func:`apply_brickwork`) is one ``shard_map``: the even layer's pairs lie
inside a shard; the odd layer's last pair of shard p is ``(pL + L - 1, pL + L)``, so shard p
receives its right neighbour's first site tensor (a one-site halo, ``ppermute``), updates the
pair with :func:`qtnet.tn.evolve.two_site_update` like every other pair, and hands the new
tensor, bond and rank back. Expectation values (:func:`expectation_local`) pass the left
environment ``[chi, chi]`` from shard to shard: shard p contracts its sites once the
environment of shards ``0 .. p-1`` has arrived. Both are differentiable and equal the
single-device :func:`qtnet.tn.apply_brickwork` / :func:`qtnet.tn.expectation_local` to
rounding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from qtnet.tn.evolve import two_site_update
from qtnet.tn.mpo import pauli_terms
from qtnet.tn.mps_pytree import MPS
from qtnet.tn.shapes import (BrickworkPairs, BrickworkSingles, Expectations, LocalOperators,
                             RealScalar)

SITES = "sites"
"""The mesh axis the site axis is split over."""


def site_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-d mesh over ``devices`` (default: all of them) with the axis :data:`SITES`."""
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("site_mesh needs at least one device")
    return Mesh(np.array(devices), (SITES,))


def _shards(mesh: Mesh) -> int:
    if tuple(mesh.axis_names) != (SITES,):
        raise ValueError(f"a sharded MPS needs a 1-d mesh with the axis {SITES!r} "
                         f"(qtnet.tn.sharded.site_mesh); got axes {tuple(mesh.axis_names)}")
    return mesh.shape[SITES]


def check_shardable(mps: MPS, mesh: Mesh) -> int:
    """Sites per device, after checking the state can be split over ``mesh``.

    Raises:
      ValueError: a batched state, or ``n`` not a multiple of twice the device count (each
        device must hold whole pairs of the even layer).
    """
    p = _shards(mesh)
    if mps.tensors.ndim != 4:
        raise ValueError(f"a sharded MPS is one state: site tensors [n, chi, d, chi], got "
                         f"shape {mps.tensors.shape}")
    n = mps.n_sites
    if n % (2 * p):
        raise ValueError(f"{n} sites cannot be split over {p} devices: each device needs an "
                         f"even number of sites, so n must be a multiple of {2 * p}")
    return n // p


def shard_mps(mps: MPS, mesh: Mesh) -> MPS:
    """``mps`` with its site tensors split over ``mesh`` (the rest replicated)."""
    check_shardable(mps, mesh)
    sites = NamedSharding(mesh, PartitionSpec(SITES))
    whole = NamedSharding(mesh, PartitionSpec())
    return dataclasses.replace(
        mps, tensors=jax.device_put(mps.tensors, sites),
        schmidt=jax.device_put(mps.schmidt, whole), ranks=jax.device_put(mps.ranks, whole),
        log_norm=jax.device_put(mps.log_norm, whole),
        log_fidelity=jax.device_put(mps.log_fidelity, whole))


def bytes_per_device(tree) -> dict[jax.Device, int]:
    """Bytes each device holds of the arrays in ``tree`` (their addressable shards)."""
    held: dict[jax.Device, int] = {}
    for leaf in jax.tree.leaves(tree):
        for shard in leaf.addressable_shards:
            held[shard.device] = held.get(shard.device, 0) + shard.data.nbytes
    return held


def _from_right(p: int):
    return [(k + 1, k) for k in range(p - 1)]


def _to_right(p: int):
    return [(k, k + 1) for k in range(p - 1)]


def apply_brickwork(mps: MPS, single: BrickworkSingles, pairs: BrickworkPairs, mesh: Mesh, *,
                    max_bond: int | None = None, cutoff: float = 0.0) -> MPS:
    """:func:`qtnet.tn.apply_brickwork` with the sites split over ``mesh``.

    Each device updates its own pairs; an odd layer exchanges one site tensor with each
    neighbour. The result's site tensors stay sharded.

    Args:
      mps: the state, e.g. from :func:`shard_mps` (an unsharded one is split by the call).
      single: ``[D, n, d, d]`` single-site gates, as for the one-device call.
      pairs: ``[D, n // 2, d*d, d*d]`` two-site gates, as for the one-device call.
      mesh: a :func:`site_mesh`; ``n`` must be a multiple of twice its size.
      max_bond: bond cap (default: the state's).
      cutoff: relative singular-value cutoff.
    """
    local = check_shardable(mps, mesh)
    p = _shards(mesh)
    n, c, d, _ = mps.tensors.shape
    single, pairs = jnp.asarray(single), jnp.asarray(pairs)
    depth = single.shape[0]
    if single.shape != (depth, n, d, d) or pairs.shape != (depth, n // 2, d * d, d * d):
        raise ValueError(f"sharded brickwork on {n} sites: expected single [{depth}, {n}, {d}, "
                         f"{d}] and pairs [{depth}, {n // 2}, {d * d}, {d * d}], got "
                         f"{tuple(single.shape)} and {tuple(pairs.shape)}")
    keep = mps.bond_cap if max_bond is None else min(int(max_bond), mps.bond_cap)
    m = local // 2
    # Vmapped over pairs as on one device (a loop over pairs rounds differently from the
    # vmap), with one LAPACK call per matrix: host devices hang in a batched call.
    update = jax.vmap(lambda lam, b1, b2, gate, rank_right: two_site_update(
        lam, b1, b2, gate, keep, cutoff, rank_right, per_matrix=True))

    def body(tensors, schmidt, ranks, single, pairs, offsets, rank_end):
        me = jax.lax.axis_index(SITES)
        last = me == p - 1

        def layer(carry, xs):
            tensors, schmidt, ranks, log_fid = carry
            one, two, offset = xs
            tensors = jnp.einsum("nxp,napb->naxb", one.astype(tensors.dtype), tensors)
            # Halo: the right neighbour's first site and its bonds' ranks; the last shard
            # sees the open boundary (its odd-layer last pair is no pair, see `valid`).
            halo_t = jax.lax.ppermute(tensors[0], SITES, _from_right(p))
            halo_r = jax.lax.ppermute(ranks[:2], SITES, _from_right(p))
            halo_r = jnp.where(last, jnp.broadcast_to(rank_end, (2,)), halo_r)
            ext_t = jnp.concatenate([tensors, halo_t[None]])                    # [L + 1]
            ext_s = jnp.concatenate([schmidt, jnp.zeros_like(schmidt[:1])])    # [L + 1]
            ext_r = jnp.concatenate([ranks, halo_r])                            # [L + 2]
            # Local pair k: sites (offset + 2k, offset + 2k + 1) of the extended arrays.
            pair_t = jax.lax.dynamic_slice_in_dim(ext_t, offset, local).reshape(m, 2, c, d, c)
            bonds = jax.lax.dynamic_slice_in_dim(ext_s, offset, local).reshape(m, 2, c)
            rank_pairs = jax.lax.dynamic_slice_in_dim(ext_r, offset, local).reshape(m, 2)
            rank_right = jax.lax.dynamic_slice_in_dim(ext_r, offset + 2, local - 1)[::2]
            valid = jnp.ones((m,), bool).at[m - 1].set(~(last & (offset == 1)))
            b1, b2, s_mid, frac, rank_mid, _ = update(bonds[:, 0], pair_t[:, 0], pair_t[:, 1],
                                                      two, rank_right)

            def pick(new, old):
                return jnp.where(valid.reshape((m,) + (1,) * (new.ndim - 1)), new, old)

            new_t = pick(jnp.stack([b1, b2], 1), pair_t).reshape(local, c, d, c)
            new_s = jnp.stack([bonds[:, 0], pick(s_mid, bonds[:, 1])], 1).reshape(local, c)
            new_r = jnp.stack([rank_pairs[:, 0], pick(rank_mid, rank_pairs[:, 1])], 1)
            ext_t = jax.lax.dynamic_update_slice_in_dim(ext_t, new_t, offset, 0)
            ext_s = jax.lax.dynamic_update_slice_in_dim(ext_s, new_s, offset, 0)
            ext_r = jax.lax.dynamic_update_slice_in_dim(ext_r, new_r.reshape(local), offset, 0)
            # Hand back: after an odd layer the left neighbour holds this shard's new first
            # site tensor, the bond left of it and that bond's rank.
            back_t = jax.lax.ppermute(ext_t[local], SITES, _to_right(p))
            back_s = jax.lax.ppermute(ext_s[local], SITES, _to_right(p))
            back_r = jax.lax.ppermute(ext_r[local], SITES, _to_right(p))
            take = (offset == 1) & (me > 0)
            tensors = ext_t[:local].at[0].set(jnp.where(take, back_t, ext_t[0]))
            schmidt = ext_s[:local].at[0].set(jnp.where(take, back_s, ext_s[0]))
            ranks = ext_r[:local].at[0].set(jnp.where(take, back_r, ext_r[0]))
            log_fid = log_fid + jnp.sum(jnp.where(valid, jnp.log(frac), 0.0))
            return (tensors, schmidt, ranks, log_fid), None

        zero = jax.lax.pcast(jnp.zeros((), jnp.finfo(tensors.dtype).dtype), SITES,
                             to="varying")
        (tensors, schmidt, ranks, log_fid), _ = jax.lax.scan(
            layer, (tensors, schmidt, ranks, zero), (single, pairs, offsets))
        return tensors, schmidt, ranks, jax.lax.psum(log_fid, SITES)

    spec, per_layer, whole = PartitionSpec(SITES), PartitionSpec(None, SITES), PartitionSpec()
    mapped = jax.shard_map(body, mesh=mesh,
                           in_specs=(spec, spec, spec, per_layer, per_layer, whole, whole),
                           out_specs=(spec, spec, spec, whole))
    offsets = jnp.arange(depth, dtype=jnp.int32) % 2
    tensors, schmidt, ranks, log_fid = mapped(mps.tensors, mps.schmidt[:n], mps.ranks[:n],
                                              single, pairs.astype(mps.dtype), offsets,
                                              mps.ranks[n])
    return dataclasses.replace(
        mps, tensors=tensors, schmidt=jnp.concatenate([schmidt, mps.schmidt[n:]]),
        ranks=jnp.concatenate([ranks, mps.ranks[n:]]),
        log_fidelity=mps.log_fidelity + log_fid)


def expectation_local(mps: MPS, local_ops: LocalOperators, mesh: Mesh) -> Expectations:
    """:func:`qtnet.tn.expectation_local` with the sites split over ``mesh``: the left
    environments travel from shard to shard, each shard contracting its sites in turn."""
    check_shardable(mps, mesh)
    p = _shards(mesh)
    n, c = mps.n_sites, mps.bond_cap
    dtype = jnp.result_type(mps.dtype, jnp.asarray(local_ops).dtype)
    local_ops = jnp.asarray(local_ops).astype(dtype)
    if local_ops.shape[-3:] != (n, mps.phys_dim, mps.phys_dim):
        raise ValueError(f"local operators for {n} sites: expected shape [..., {n}, "
                         f"{mps.phys_dim}, {mps.phys_dim}], got {tuple(local_ops.shape)}")
    batch = local_ops.shape[:-3]
    flat = local_ops.reshape((-1,) + local_ops.shape[-3:])                  # [T, n, d, d]
    real = jnp.finfo(mps.dtype).dtype                 # the norm's scan runs in the state's dtype

    def contract(carry, tensors, ops):
        """This shard's sites onto the environments (as expectation_local and
        network_norm_sq do on one device: the norm rescaled each site, the terms not)."""
        def step(carry, sites):
            envs, norm_env, log_scale = carry
            b, op = sites                                                   # op [T, d, d]
            bc = b.astype(dtype)
            envs = jnp.einsum("tab,axc,txy,byd->tcd", envs, jnp.conj(bc), op, bc)
            norm_env = jnp.einsum("ab,apc,bpd->cd", norm_env, jnp.conj(b), b)
            scale = jnp.maximum(jnp.max(jnp.abs(norm_env)), jnp.finfo(real).tiny)
            return (envs, norm_env / scale, log_scale + jnp.log(scale)), None

        carry, _ = jax.lax.scan(step, carry, (tensors, jnp.swapaxes(ops, 0, 1)))
        return carry

    def body(tensors, ops):
        me = jax.lax.axis_index(SITES)
        envs = jnp.zeros((flat.shape[0], c, c), dtype).at[:, 0, 0].set(1.0)
        norm_env = jnp.zeros((c, c), mps.dtype).at[0, 0].set(1.0)
        carry = jax.lax.pcast((envs, norm_env, jnp.zeros((), real)), SITES, to="varying")

        def turn(k, carry):
            carry = jax.lax.cond(me == k, lambda x: contract(x, tensors, ops), lambda x: x,
                                 carry)
            return jax.lax.ppermute(carry, SITES, _to_right(p))

        carry = jax.lax.fori_loop(0, p - 1, turn, carry)
        envs, norm_env, log_scale = jax.lax.cond(
            me == p - 1, lambda x: contract(x, tensors, ops), lambda x: x, carry)
        # Only the last shard holds the full contraction; a psum shares it.
        mine = me == p - 1
        values = jax.lax.psum(jnp.where(mine, envs[:, 0, 0], 0), SITES)
        norm_sq = jax.lax.psum(jnp.where(mine, jnp.real(norm_env[0, 0]) * jnp.exp(log_scale),
                                         0), SITES)
        return values, norm_sq

    mapped = jax.shard_map(body, mesh=mesh, in_specs=(PartitionSpec(SITES),
                                                      PartitionSpec(None, SITES)),
                           out_specs=(PartitionSpec(), PartitionSpec()))
    values, norm_sq = mapped(mps.tensors, flat)
    return (values / norm_sq).reshape(batch)


def expectation_pauli(mps: MPS, observable, mesh: Mesh) -> RealScalar:
    """:func:`qtnet.tn.expectation_pauli` with the sites split over ``mesh``."""
    coeffs, ops = pauli_terms(observable, mps.n_sites)
    values = expectation_local(mps, ops, mesh)
    return jnp.real(jnp.sum(jnp.asarray(coeffs).astype(values.dtype) * values))
