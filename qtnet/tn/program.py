"""Compile a list of gates into a fixed-shape program of nearest-neighbour two-site gates.

A program is what the MPS backend scans over: ``sites [G]`` and ``gates [G, d^2, d^2]``
(gate k acts on ``(sites[k], sites[k] + 1)``), plus one final single-site layer
``final [n, d, d]``. Built in Python from concrete qubit indices; the matrices may be
traced (parameterised circuits differentiate through them).

* Single-site gates are fused into the next two-site gate on that site (exact), so they
  cost no SVD; the ones left at the end form the final layer.
* A gate on non-neighbouring sites is routed with SWAPs.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.gates import FIXED_2Q
from qtnet.tn.shapes import BrickworkPairs, GateSequence, GateSites, SingleSiteLayer

MAX_EXACT_BOND = 4096


@dataclasses.dataclass(frozen=True)
class GateProgram:
    sites: GateSites           # [G] int32 (numpy), left site of each two-site gate
    gates: GateSequence        # [G, d*d, d*d]
    final: SingleSiteLayer     # [n, d, d]
    bond_bound: np.ndarray     # [n + 1] exact upper bound on each bond's dimension
    gate_ranks: np.ndarray     # [G] operator Schmidt rank of each gate (d*d when traced)

    @property
    def exact_bond(self) -> int:
        """Largest bond an untruncated simulation of this program can need."""
        return int(self.bond_bound.max())


def _swap(d: int):
    if d != 2:
        return jnp.eye(d * d)[np.arange(d * d).reshape(d, d).T.reshape(-1)]
    return jnp.asarray(FIXED_2Q["SWAP"])


def route_two_site(gate, sites, d: int = 2):
    """Nearest-neighbour ``(positions, matrices)`` equal to ``gate`` on ``sites=(a, b)``."""
    a, b = sites
    gate = jnp.asarray(gate)
    swap = _swap(d).astype(gate.dtype)
    if a > b:                                  # order the gate's qubits as the sites
        gate = swap @ gate @ swap
        a, b = b, a
    there = list(range(b - 1, a, -1))          # move b down to a + 1
    positions = [*there, a, *there[::-1]]
    matrices = [swap] * len(there) + [gate] + [swap] * len(there)
    return np.asarray(positions, np.int32), jnp.stack(matrices)


def operator_schmidt_rank(gate, d: int = 2) -> int:
    """Rank of a two-site gate across the cut between its sites (4 when traced)."""
    if isinstance(gate, jax.core.Tracer):
        return d * d
    g = np.asarray(gate).reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
    s = np.linalg.svd(g, compute_uv=False)
    return int(np.sum(s > 1e-12 * s[0]))


def compile_program(ops, n_sites: int, d: int = 2, dtype=jnp.complex128) -> GateProgram:
    """Compile ``ops``: an iterable of ``(matrix, sites)`` with ``sites`` a tuple of ints."""
    pending = [None] * n_sites                 # single-site gates not yet fused
    positions, matrices = [], []
    for matrix, sites in ops:
        matrix = jnp.asarray(matrix, dtype)
        if len(sites) == 1:
            (q,) = sites
            pending[q] = matrix if pending[q] is None else matrix @ pending[q]
            continue
        a, b = sites
        if pending[a] is not None or pending[b] is not None:
            ia = pending[a] if pending[a] is not None else jnp.eye(d, dtype=dtype)
            ib = pending[b] if pending[b] is not None else jnp.eye(d, dtype=dtype)
            matrix = matrix @ jnp.kron(ia, ib)
            pending[a] = pending[b] = None
        pos, mats = route_two_site(matrix, (a, b), d)
        positions.extend(pos.tolist())
        matrices.extend(list(mats))
    eye = jnp.eye(d, dtype=dtype)
    final = jnp.stack([eye if p is None else p for p in pending])
    gates = jnp.stack(matrices) if matrices else jnp.zeros((0, d * d, d * d), dtype)
    sites = np.asarray(positions, np.int32)
    ranks = np.asarray([operator_schmidt_rank(g, d) for g in matrices], np.int32)
    return GateProgram(sites, gates, final, _bond_bound(sites, ranks, n_sites, d), ranks)


def _bond_bound(sites, ranks, n: int, d: int) -> np.ndarray:
    """Per-bond bound: product of operator Schmidt ranks, capped by the Hilbert space."""
    cap = np.array([d ** min(b, n - b) for b in range(n + 1)], dtype=object)
    bound = np.ones(n + 1, dtype=object)
    for i, r in zip(np.asarray(sites).tolist(), np.asarray(ranks).tolist()):
        b = i + 1
        if bound[b] < cap[b]:
            bound[b] = min(bound[b] * int(r), cap[b])
    return np.asarray([int(x) for x in bound], np.int64)


def brickwork_bond_bound(n_sites: int, pairs: BrickworkPairs, d: int = 2) -> np.ndarray:
    """Per-bond bound for :func:`qtnet.tn.apply_brickwork` from a product state.

    ``pairs [D, n // 2, d*d, d*d]`` must be concrete; layer l's gates sit on bonds
    ``l mod 2 + 2k + 1``. Use ``min(max_bond, bound.max())`` as the state's bond cap: a
    smaller fixed shape is exact whenever the circuit cannot entangle more.
    """
    pairs = np.asarray(pairs)
    sites, ranks = [], []
    for layer in range(pairs.shape[0]):
        offset = layer % 2
        for k in range((n_sites - offset) // 2):
            sites.append(offset + 2 * k)
            ranks.append(operator_schmidt_rank(pairs[layer, k], d))
    return _bond_bound(sites, ranks, n_sites, d)


def bond_cap_for(program: GateProgram, max_bond: int | None, n_qubits: int) -> int:
    """Array bond cap of an MPS that runs ``program``: ``max_bond``, but never more than the
    program can use.

    Exact mode (``max_bond=None``) takes twice the structural bound: then every bond keeps
    room for all directions it can grow into, and gradients are exact at rank-deficient
    points too (e.g. all angles zero), see ``qtnet.tn.evolve``.
    """
    exact = program.exact_bond
    if max_bond is None:
        if exact > MAX_EXACT_BOND:
            raise ValueError(f"an exact MPS of this circuit may need bond {exact} "
                             f"(> {MAX_EXACT_BOND}); pass max_bond to truncate")
        return max(1, 2 * exact) if n_qubits > 1 else 1
    if int(max_bond) < 1:
        raise ValueError(f"max_bond must be a positive integer, got {max_bond}")
    return max(1, min(int(max_bond), 2 * exact))    # never less room than exact mode
