"""Apply gates to a canonical MPS: one gate, a layer of gates, or a whole gate program.

Every two-site gate uses the inverse-free Vidal-Hastings update (Hastings 2009), which needs
no sweep to move an orthogonality centre::

    theta = diag(s_i) . G . (B_i B_{i+1})   --SVD-->   U S Vh,   truncate to chi
    B_{i+1} <- Vh_k          (right-orthonormal rows)
    B_i     <- G (B_i B_{i+1}) Vh_k^dagger       (no division by Schmidt values)
    s_{i+1} <- S_k

so the gates of one layer act on disjoint pairs independently: the layer is one ``vmap``
over pairs, and a sequence of gates is one ``lax.scan``. Compile time does not grow with
the number of sites or gates.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.mps_pytree import MPS
from qtnet.tn.program import compile_program, route_two_site
from qtnet.tn.svd import right_singular, truncation_mask
from qtnet.tn.shapes import (BondVector, BrickworkPairs, BrickworkSingles, Gate, GateSequence,
                             GateSites, PairLayer, RealScalar, SingleSiteLayer, SiteTensor)


def _keep(mps: MPS, max_bond: int | None) -> int:
    return mps.bond_cap if max_bond is None else min(int(max_bond), mps.bond_cap)


def two_site_update(lam: BondVector, b1: SiteTensor, b2: SiteTensor, gate: Gate, keep: int,
                    cutoff: float, rank_right, per_matrix: bool = False
                    ) -> tuple[SiteTensor, SiteTensor, BondVector, RealScalar, jax.Array,
                               jax.Array]:
    """Apply a ``[d*d, d*d]`` ``gate`` to sites (i, i+1) of a canonical MPS.

    Args:
      lam: ``[c]`` Schmidt values on bond i (left of site i).
      b1, b2: ``[c, d, c]`` right-orthonormal site tensors ("l p r").
      rank_right: slots of bond i+2 that may carry weight (``ranks[i+2]``).
      per_matrix: one LAPACK call per matrix under ``vmap`` on CPU
        (:func:`qtnet.tn.svd.right_singular`; for host devices, same numbers).

    Returns:
      ``(b1', b2', s_mid [c], kept_fraction, ranks[i+1]', capped)``; ``capped``: whether the
      bond cap ``keep`` dropped a value that the cutoff alone would have kept.

    The right factor is that of the SVD of the two-site centre, with its null space ordered
    so that R, the right slots the state can reach (``r < ranks[i+2]``), comes first::

        theta = sum_k s_k u_k v_k^dagger   -->   v: nonzero s (descending), R's null vectors,
                                                  the rest (:func:`qtnet.tn.svd.right_singular`)

    When R fits in the bond every direction the state can grow into is kept, including those
    whose singular value is zero right now. A plain SVD would keep an arbitrary subset of the
    zero-singular-value vectors, and the derivative of any parameter that raises the bond's
    rank (e.g. at a product state) would come out wrong. At full rank on the live rows (the
    rows of a nonzero Schmidt value, or of a nonzero site tensor: a null vector kept by an
    earlier gate, which grows to first order) those directions already live in the
    derivative of the nonzero vectors, and no null vector is kept (nor ordered: the
    ``order_below`` of :func:`qtnet.tn.svd.right_singular`). No Gram matrix
    ``theta^dagger theta`` is formed, so single precision keeps the accuracy of the SVD (see
    docs/engine.md).
    """
    c, d, _ = b1.shape
    real = jnp.finfo(b1.dtype).dtype
    g = gate.reshape(d * d, d * d).astype(b1.dtype)                  # [(o1 o2), (i1 i2)]
    pair = jnp.einsum("apb,bqc->apqc", b1, b2).reshape(c, d * d, c)  # [l (p q) r]
    # The gate's axes stay in the middle: an [l, (pq), r] layout keeps r minor, where a
    # 4-D einsum over (p, q) made XLA transpose to a minor axis of size d*d (slow loops).
    pair = jnp.einsum("xp,apc->axc", g, pair).reshape(c, d, d, c)    # [l o1 o2 r]
    in_r = jnp.broadcast_to(jnp.arange(c) < rank_right, (d, c)).reshape(d * c).astype(real)
    theta = (lam.astype(pair.dtype)[:, None, None, None] * pair).reshape(c * d, d * c)
    theta = theta * in_r.astype(theta.dtype)[None, :]                # [(l o1), (o2 r)]
    pair = pair.reshape(c * d, d * c)

    total = jnp.sum(jnp.abs(theta) ** 2)
    tiny = jnp.finfo(real).tiny
    # Rows (l o1) that carry weight now or to first order: a slot of zero Schmidt value whose
    # site tensor is not zero is a null vector an earlier gate kept, and grows with it.
    live_rows = d * jnp.sum((lam > 0) | jnp.any(b1 != 0, axis=(1, 2)))
    s_all, v = right_singular(theta, in_r, per_matrix,                # [(q r)], [(q r), k]
                              jnp.minimum(live_rows, keep))
    v_mask = jax.lax.stop_gradient(v)                               # a mask: no derivative
    in_span = jnp.sum((jnp.real(v_mask) ** 2 + jnp.imag(v_mask) ** 2) * in_r[:, None],
                      axis=0)                                          # ~1 for R, ~0 outside
    s_all = jnp.where(in_span > 0.5, s_all, 0.0)
    capped = jnp.any(truncation_mask(s_all, s_all.shape[0], cutoff)[keep:] & (s_all[keep:] > 0))
    # Null vectors are kept only below full rank on the live rows, where they carry the
    # derivative that grows the rank; at full rank it lives in the nonzero vectors' derivative.
    grows = jnp.sum(s_all > 0) < live_rows
    s, v = s_all[:c], v[:, :c]
    mask = truncation_mask(s, keep, cutoff) & (in_span[:c] > 0.5) & ((s > 0) | grows)
    s = jnp.where(mask, s, 0.0)
    s2_all, s2 = s_all ** 2, s ** 2
    # Weight dropped = what is not kept, so an untruncated update reports exactly zero.
    dropped = jnp.sum(s2_all) - jnp.sum(s2)
    kept = jnp.maximum(total - dropped, tiny)
    inv = 1.0 / jnp.sqrt(kept)
    v_k = v * mask[None, :].astype(v.dtype)                          # [(q r), c]
    b2_new = jnp.conj(v_k).T.reshape(c, d, c)
    b1_new = (pair @ v_k * inv.astype(pair.dtype)).reshape(c, d, c)
    frac = jnp.where(total > 0, jnp.clip(kept / jnp.maximum(total, tiny), 0.0, 1.0), 1.0)
    # Slots that may carry weight now or to first order: every kept vector of R (the
    # zero-weight ones among them come in no particular order, so a tighter count such as
    # min(d * rank_l, rank_m * gate_rank) would not say *which* slots stay empty).
    rank_new = jnp.minimum(keep, d * rank_right)
    s_mid = s / jnp.sqrt(jnp.maximum(jnp.sum(s2), tiny))         # unit Schmidt vector
    return b1_new, b2_new, s_mid, frac, rank_new.astype(jnp.int32), capped


def apply_single_site_layer(mps: MPS, gates: SingleSiteLayer) -> MPS:
    """Apply one ``[d, d]`` gate per site (``gates [n, d, d]``); exact, keeps canonical form."""
    gates = jnp.asarray(gates).astype(mps.dtype)
    _check_layer_shape(gates, (mps.n_sites, mps.phys_dim, mps.phys_dim), "single-site layer")
    tensors = jnp.einsum("nxp,napb->naxb", gates, mps.tensors)
    return dataclasses.replace(mps, tensors=tensors)


def apply_pair_layer(mps: MPS, gates: PairLayer, offset: int, *, max_bond: int | None = None,
                     cutoff: float = 0.0) -> MPS:
    """Apply gates on the disjoint pairs ``(offset + 2k, offset + 2k + 1)`` in one vmapped step.

    Args:
      gates: ``[(n - offset) // 2, d*d, d*d]``; put the identity on pairs without a gate.
      offset: 0 (pairs 0-1, 2-3, ...) or 1 (pairs 1-2, 3-4, ...).
    """
    if offset not in (0, 1):
        raise ValueError(f"pair layer offset must be 0 or 1, got {offset}")
    n, c, d, _ = mps.tensors.shape
    m = (n - offset) // 2
    gates = jnp.asarray(gates)
    _check_layer_shape(gates, (m, d * d, d * d), f"pair layer (offset {offset})")
    if m == 0:
        return mps
    # The traced-offset layer below has n // 2 slots; a slot with no pair is discarded.
    spare = jnp.broadcast_to(jnp.eye(d * d, dtype=gates.dtype), (n // 2 - m, d * d, d * d))
    return _pair_layer_any_offset(mps, jnp.concatenate([gates, spare]), offset,
                                  _keep(mps, max_bond), cutoff)


def _pair_layer_any_offset(mps: MPS, gates, offset, keep: int, cutoff: float) -> MPS:
    """:func:`apply_pair_layer` with a traced ``offset`` (0 or 1), so that even and odd
    layers are one compiled body.

    The sites are rolled by ``offset`` (a dynamic slice, cheap both ways, where a gather
    would turn into a scatter-add in reverse mode), so pair k is rows ``(2k, 2k + 1)``::

        rolled site j = site (j + offset) mod n,   rolled bond j = bond (j + offset) mod (n+1)

    There are always ``m = n // 2`` pair slots; for even n and offset 1 the last one wraps
    around to sites ``(n - 1, 0)``, which is no pair: it is computed and discarded.
    """
    n, c, d, _ = mps.tensors.shape
    m = n // 2
    valid = jnp.ones((m,), bool)
    if n % 2 == 0:
        valid = valid.at[m - 1].set(offset == 0)
    tensors = jnp.roll(mps.tensors, -offset, axis=0)
    schmidt = jnp.roll(mps.schmidt, -offset, axis=0)
    ranks = jnp.roll(mps.ranks, -offset, axis=0)
    pairs = tensors[:2 * m].reshape(m, 2, c, d, c)
    bonds = schmidt[:2 * m].reshape(m, 2, c)                  # [k, (left, middle), c]
    rank_right = ranks[2:2 * m + 1:2]                        # rolled bonds 2, 4, ..., 2m
    update = jax.vmap(two_site_update, in_axes=(0, 0, 0, 0, None, None, 0))
    b1, b2, s_mid, frac, rank_mid, _ = update(bonds[:, 0], pairs[:, 0], pairs[:, 1], gates[:m],
                                           keep, cutoff, rank_right)

    def pick(new, old):
        return jnp.where(valid.reshape((m,) + (1,) * (new.ndim - 1)), new, old)

    new_pairs = pick(jnp.stack([b1, b2], 1), pairs).reshape(2 * m, c, d, c)
    new_bonds = jnp.stack([bonds[:, 0], pick(s_mid, bonds[:, 1])], 1).reshape(2 * m, c)
    rank_pairs = ranks[:2 * m].reshape(m, 2)
    new_ranks = jnp.stack([rank_pairs[:, 0], jnp.where(valid, rank_mid, rank_pairs[:, 1])], 1)
    tensors = jnp.concatenate([new_pairs, tensors[2 * m:]])
    schmidt = jnp.concatenate([new_bonds, schmidt[2 * m:]])
    ranks = jnp.concatenate([new_ranks.reshape(2 * m), ranks[2 * m:]])
    return dataclasses.replace(
        mps, tensors=jnp.roll(tensors, offset, axis=0),
        schmidt=jnp.roll(schmidt, offset, axis=0), ranks=jnp.roll(ranks, offset, axis=0),
        log_fidelity=mps.log_fidelity + jnp.sum(jnp.where(valid, jnp.log(frac), 0.0)))


def apply_brickwork(mps: MPS, single: BrickworkSingles, pairs: BrickworkPairs, *,
                    max_bond: int | None = None, cutoff: float = 0.0) -> MPS:
    """A brickwork circuit: layer l is ``single[l]`` on every site, then ``pairs[l]`` on the
    pairs starting at site ``l mod 2``. One ``lax.scan`` over the layers, whose body serves
    both parities (the offset is traced), so the program holds one copy of the gate update.

    Args:
      single: ``[D, n, d, d]`` single-site gates (the identity where a site has none).
      pairs: ``[D, n // 2, d*d, d*d]``; odd layers use only the first ``(n - 1) // 2``.
    """
    single, pairs = jnp.asarray(single), jnp.asarray(pairs)
    depth, n = single.shape[0], mps.n_sites
    if pairs.shape[0] != depth:
        raise ValueError(f"brickwork: {depth} single-site layers but {pairs.shape[0]} pair layers")
    _check_layer_shape(single, (depth, n, mps.phys_dim, mps.phys_dim), "brickwork single layers")
    _check_layer_shape(pairs, (depth, n // 2) + (mps.phys_dim ** 2,) * 2, "brickwork pair layers")
    if n < 2:                                   # no pairs: the single-site layers only
        mps, _ = jax.lax.scan(lambda s, one: (apply_single_site_layer(s, one), None), mps,
                              single)
        return mps
    keep = _keep(mps, max_bond)

    def layer(state, xs):
        one, two, offset = xs
        state = apply_single_site_layer(state, one)
        return _pair_layer_any_offset(state, two, offset, keep, cutoff), None

    offsets = jnp.arange(depth, dtype=jnp.int32) % 2
    mps, _ = jax.lax.scan(layer, mps, (single, pairs, offsets))
    return mps


def apply_brickwork_real(mps: MPS, single: BrickworkSingles, pairs: BrickworkPairs, *,
                         max_bond: int | None = None, cutoff: float = 0.0) -> MPS:
    """:func:`apply_brickwork` for a real circuit, run in real arithmetic.

    A circuit whose gates (real dtype: RY, CZ, CNOT, H, ...; see
    :func:`qtnet.tn.gates.is_real_gate`) and initial state are real keeps real amplitudes,
    and so do its SVDs: evolving it in the real dtype of a complex ``mps`` (complex64 ->
    float32) gives the same state at about half the cost. The result is cast back to
    ``mps.dtype``.

    Raises ``ValueError`` for gates of a complex dtype. Whether the *state* is real is known
    only at run time: a state with any nonzero imaginary part comes back as NaN (never as a
    silently wrong real state). A real ``mps`` runs :func:`apply_brickwork` unchanged.
    Gradients are exact for real parameters of the gates and of the state; the derivative
    along an imaginary perturbation of the state is not computed (it comes back as zero).
    """
    return _in_real_arithmetic(
        lambda state, one, two: apply_brickwork(state, one, two, max_bond=max_bond,
                                                cutoff=cutoff),
        mps, {"single-site": single, "pair": pairs}, "apply_brickwork_real")


def apply_two_site_sequence_real(mps: MPS, sites: GateSites, gates: GateSequence, *,
                                 max_bond: int | None = None, cutoff: float = 0.0) -> MPS:
    """:func:`apply_two_site_sequence` for real gates on a real state, in real arithmetic;
    the same contract as :func:`apply_brickwork_real`."""
    return _in_real_arithmetic(
        lambda state, g: apply_two_site_sequence(state, sites, g, max_bond=max_bond,
                                                 cutoff=cutoff),
        mps, {"two-site": gates}, "apply_two_site_sequence_real")


def _in_real_arithmetic(run, mps: MPS, gates: dict, caller: str) -> MPS:
    """``run(state, *gates)`` on the real part of ``mps``, cast back; NaN if it was not real."""
    gates = {what: jnp.asarray(g) for what, g in gates.items()}
    for what, g in gates.items():
        if jnp.iscomplexobj(g):
            raise ValueError(f"{caller}: the {what} gates are {g.dtype}; only a circuit of "
                             f"real gates runs in real arithmetic (use {caller[:-5]})")
    if not jnp.iscomplexobj(mps.tensors):
        return run(mps, *gates.values())
    real = jnp.finfo(mps.dtype).dtype
    state_is_real = jnp.all(jnp.imag(mps.tensors) == 0)
    out = run(dataclasses.replace(mps, tensors=jnp.real(mps.tensors)),
              *(g.astype(real) for g in gates.values()))
    tensors = jnp.where(state_is_real, out.tensors, jnp.nan).astype(mps.dtype)
    return dataclasses.replace(out, tensors=tensors)


def apply_two_site_sequence(mps: MPS, sites: GateSites, gates: GateSequence, *,
                            max_bond: int | None = None, cutoff: float = 0.0) -> MPS:
    """Apply ``gates[k]`` (``[d*d, d*d]``) to sites ``(sites[k], sites[k] + 1)`` in order.

    One ``lax.scan`` over the gates; ``sites`` may be traced.
    """
    return two_site_sequence_capped(mps, sites, gates, max_bond=max_bond, cutoff=cutoff)[0]


def two_site_sequence_capped(mps: MPS, sites: GateSites, gates: GateSequence, *,
                             max_bond: int | None = None, cutoff: float = 0.0
                             ) -> tuple[MPS, jax.Array]:
    """:func:`apply_two_site_sequence`, plus whether the bond cap bound anywhere (a value
    above the cutoff was dropped for lack of room)."""
    sites = jnp.asarray(sites, jnp.int32)
    gates = jnp.asarray(gates)
    if gates.shape[0] == 0:
        return mps, jnp.zeros((), bool)
    keep = _keep(mps, max_bond)

    def step(carry, op):
        tensors, schmidt, ranks, log_fid, capped = carry
        i, g = op
        b1 = jax.lax.dynamic_index_in_dim(tensors, i, keepdims=False)
        b2 = jax.lax.dynamic_index_in_dim(tensors, i + 1, keepdims=False)
        lam = jax.lax.dynamic_index_in_dim(schmidt, i, keepdims=False)
        rank_right = jax.lax.dynamic_index_in_dim(ranks, i + 2, keepdims=False)
        b1, b2, s_mid, frac, r_mid, cap = two_site_update(lam, b1, b2, g, keep, cutoff,
                                                          rank_right)
        tensors = jax.lax.dynamic_update_index_in_dim(tensors, b1, i, 0)
        tensors = jax.lax.dynamic_update_index_in_dim(tensors, b2, i + 1, 0)
        schmidt = jax.lax.dynamic_update_index_in_dim(schmidt, s_mid, i + 1, 0)
        ranks = jax.lax.dynamic_update_index_in_dim(ranks, r_mid, i + 1, 0)
        return (tensors, schmidt, ranks, log_fid + jnp.log(frac), capped | cap), None

    init = (mps.tensors, mps.schmidt, mps.ranks, mps.log_fidelity, jnp.zeros((), bool))
    (tensors, schmidt, ranks, log_fid, capped), _ = jax.lax.scan(step, init, (sites, gates))
    return dataclasses.replace(mps, tensors=tensors, schmidt=schmidt, ranks=ranks,
                               log_fidelity=log_fid), capped


def apply_gate(mps: MPS, gate: Gate, sites, *, max_bond: int | None = None,
               cutoff: float = 0.0) -> MPS:
    """Apply one unitary gate on one site or on two sites (adjacent or not).

    A gate on sites ``(a, b)`` that are not neighbours is routed with SWAPs: site b is
    swapped next to a, the gate applied, and swapped back.
    """
    sites = tuple(int(s) for s in np.atleast_1d(sites))
    gate = jnp.asarray(gate)
    n, d = mps.n_sites, mps.phys_dim
    for s in sites:
        if not 0 <= s < n:
            raise ValueError(f"site {s} out of range for an MPS of {n} sites")
    if len(sites) == 1:
        _check_layer_shape(gate, (d, d), f"gate on site {sites[0]}")
        single = jnp.broadcast_to(jnp.eye(d, dtype=mps.dtype), (n, d, d))
        return apply_single_site_layer(mps, single.at[sites[0]].set(gate.astype(mps.dtype)))
    if len(sites) != 2 or sites[0] == sites[1]:
        raise ValueError(f"gates act on one or two distinct sites, got sites {sites}")
    _check_layer_shape(gate, (d * d, d * d), f"gate on sites {sites}")
    positions, matrices = route_two_site(gate, sites, d)
    return apply_two_site_sequence(mps, positions, matrices, max_bond=max_bond, cutoff=cutoff)


def apply_gates(mps: MPS, ops, *, max_bond: int | None = None, cutoff: float = 0.0) -> MPS:
    """Apply a list of ``(matrix, sites)`` gates in order, any sites, one compiled scan.

    Single-site gates are fused into their neighbouring two-site gates and non-adjacent gates
    are routed with SWAPs (:func:`qtnet.tn.compile_program`).
    """
    prog = compile_program(ops, mps.n_sites, mps.phys_dim, dtype=mps.dtype)
    mps = apply_two_site_sequence(mps, prog.sites, prog.gates, max_bond=max_bond,
                                  cutoff=cutoff)
    return apply_single_site_layer(mps, prog.final)


def _check_layer_shape(x, shape, what):
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{what}: expected gates of shape {tuple(shape)}, got {tuple(x.shape)}")
