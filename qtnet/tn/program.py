"""Compile a list of gates into a fixed-shape program of nearest-neighbour two-site gates.

A program is what both backends scan over: ``sites [G]`` and ``gates [G, d^2, d^2]``
(gate k acts on ``(sites[k], sites[k] + 1)``), plus one final single-site layer
``final [n, d, d]``. It is built in Python from concrete qubit indices, before anything is
traced, so the traced program is one ``lax.scan`` body whatever the number of gates. The
matrices may be traced (parameterised circuits differentiate through them).

Fusion and routing, in one pass over the gates (exact rewrites only):

* A single-site gate is multiplied into the last two-site gate on its site (no later gate
  touches that site, so they commute into place); before any two-site gate it waits and is
  multiplied into the first one. Sites no two-site gate ever touches keep theirs in ``final``.
* A two-site gate on the same pair as that pair's last gate (nothing in between touched
  either site) is merged into it; a merged product equal to the identity is dropped.
* Gates on non-neighbouring qubits are routed with SWAPs, in one of two ways. Lazily: the
  SWAPs are not undone, the program tracks where each qubit sits, so the next gate on a
  moved qubit often needs no SWAP at all (CNOT ladders); the last gates put every qubit
  back where it started. Or there and back: each gate's SWAPs are undone at once, and those
  the next gate would redo cancel in the merge above (the qubit moved is the one the next
  gate shares, when that makes them cancel: a row of an inverse QFT costs ~2j SWAPs, not
  ~j^2). Lazy routing can leave the qubits far from their order, and the state then needs a
  much larger bond in between (MQT Bench's vqe_two_local_16, CNOTs between all pairs: 2194
  gates lazily, 675 there and back, 100x the run time). A concrete circuit with non-adjacent
  gates is compiled both ways and the lazy program is kept only if it has at most
  ``LAZY_ROUTING_MARGIN`` of the other's two-site gates; a traced one is routed lazily. The
  margin: a lazy program runs at larger intermediate bonds, so fewer gates alone do not make
  it faster (MQT Bench's ae_24: 4223 gates lazily, 1749 there and back; before the shared
  qubit was moved, 5060, and the 17 % shorter lazy program took 2-3x the time; qaoa_16 and
  randomcircuit_12: 52-67 % shorter and 2.7-3.7x faster lazily).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.gates import FIXED_2Q
from qtnet.tn.shapes import BrickworkPairs, GateSequence, GateSites, SingleSiteLayer

MAX_EXACT_BOND = 4096
IDENTITY_ATOL = 1e-14
"""A merged concrete gate this close to the identity (entrywise) is dropped."""
LAZY_ROUTING_MARGIN = 0.75
"""``routing="auto"`` keeps the lazy program only if it has at most this fraction of the
there-and-back program's two-site gates (see the module docstring)."""


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

    @property
    def traced(self) -> bool:
        """Whether the gate matrices are JAX tracers (a parameterised circuit being traced)."""
        return isinstance(self.gates, jax.core.Tracer) or isinstance(self.final, jax.core.Tracer)


def _swap(d: int):
    if d != 2:
        return np.eye(d * d)[np.arange(d * d).reshape(d, d).T.reshape(-1)]
    return np.asarray(FIXED_2Q["SWAP"])


def route_two_site(gate, sites, d: int = 2):
    """Nearest-neighbour ``(positions, matrices)`` equal to ``gate`` on ``sites=(a, b)``
    (SWAPs there and back: for one gate on its own; a program routes lazily)."""
    a, b = sites
    gate = jnp.asarray(gate)
    swap = jnp.asarray(_swap(d), gate.dtype)
    if a > b:                                  # order the gate's qubits as the sites
        gate = swap @ gate @ swap
        a, b = b, a
    there = list(range(b - 1, a, -1))          # move b down to a + 1
    positions = [*there, a, *there[::-1]]
    matrices = [swap] * len(there) + [gate] + [swap] * len(there)
    return np.asarray(positions, np.int32), jnp.stack(matrices)


def operator_schmidt_rank(gate, d: int = 2) -> int:
    """Rank of a two-site gate across the cut between its sites (d*d when traced)."""
    return int(_operator_schmidt_ranks([gate], d)[0])


def _operator_schmidt_ranks(gates, d: int) -> np.ndarray:
    ranks = np.full(len(gates), d * d, np.int32)
    concrete = [k for k, g in enumerate(gates)
                if isinstance(g, np.ndarray) or not isinstance(g, jax.core.Tracer)]
    if concrete:
        first = {}              # one SVD per matrix object (a routed program's SWAPs are one)
        which = [first.setdefault(id(gates[k]), len(first)) for k in concrete]
        distinct = {i: gates[k] for k, i in zip(concrete, which)}
        g = np.stack([np.asarray(distinct[i]) for i in range(len(first))])
        g = g.reshape(-1, d, d, d, d).transpose(0, 1, 3, 2, 4).reshape(-1, d * d, d * d)
        s = np.linalg.svd(g, compute_uv=False)
        ranks[concrete] = np.sum(s > 1e-12 * s[:, :1], axis=1)[which]
    return ranks


class _Fuser:
    """The fusion state: gates emitted so far on physical sites, the last gate on each site,
    single-site gates still waiting for a first two-site gate, and where each qubit is."""

    def __init__(self, n: int, d: int, xp):
        self.n, self.d, self.xp = n, d, xp
        self.mats, self.pos, self.alive, self.before = [], [], [], []
        self.last = [-1] * n                   # index of the last gate on each site
        self.pending = [None] * n              # single-site gates before any two-site gate
        self.where = list(range(n))            # qubit -> site
        self.qubit = list(range(n))            # site -> qubit
        self.eye = xp.eye(d)
        self.swap = xp.asarray(_swap(d))
        self.eye_pair = np.eye(d * d)

    def single(self, u, q: int) -> None:
        p = self.where[q]
        k = self.last[p]
        if k < 0:
            self.pending[p] = u if self.pending[p] is None else u @ self.pending[p]
            return
        d, m = self.d, self.mats[k]
        if self.pos[k] == p:            # u (x) 1 on the rows "(o1 o2)": u on o1
            self.mats[k] = (u @ m.reshape(d, d ** 3)).reshape(d * d, d * d)
        else:                           # 1 (x) u: u on o2, for each o1
            self.mats[k] = (u @ m.reshape(d, d, d * d)).reshape(d * d, d * d)

    def pair(self, m, a: int, b: int, back: bool = False, after=None) -> bool:
        """``m`` (first index qubit a) on qubits (a, b), routed to neighbouring sites (and
        ``back`` to where they were); whether it needed a SWAP. ``after``: the qubits of the
        next two-qubit gate, if it shares one with this one (:meth:`mover`)."""
        path = []
        moving = self.mover(a, b, back, after)
        still = a if moving == b else b
        while abs(self.where[still] - self.where[moving]) > 1:    # one site towards still
            pm = self.where[moving]
            path.append(pm - 1 if pm > self.where[still] else pm)
            self.emit(self.swap, path[-1])
        pa, pb = self.where[a], self.where[b]
        self.emit(m if pa < pb else self.swap @ m @ self.swap, min(pa, pb), move=False)
        if back:
            for i in reversed(path):
                self.emit(self.swap, i)
        return bool(path)

    def mover(self, a: int, b: int, back: bool, after) -> int:
        """The qubit to move for a gate on (a, b): b, unless routing there and back and the
        next gate (on (s, t)) shares qubit s with this one, with s's two partners on the same
        side of it: moving s then, the SWAPs taking s back and out again cancel (a row of an
        inverse QFT, ``cp(j, 0), cp(j, 1), ...``: ~2j SWAPs instead of ~j^2; MQT Bench's
        ae_24: 1749 gates instead of 5060). Lazy routing keeps b: moving s there scatters the
        qubits further (ae_24: 981 gates lazily, but twice the run time of the 1749)."""
        if not back or after is None:
            return b
        s, t = after
        if s not in (a, b):
            return b
        partner = b if s == a else a
        ps = self.where[s]
        return s if (self.where[partner] - ps) * (self.where[t] - ps) > 0 else b

    def emit(self, m, i: int, move: bool = True) -> None:
        """``m`` on sites (i, i + 1); a SWAP (``move``) also exchanges the qubits there."""
        if move:
            qa, qb = self.qubit[i], self.qubit[i + 1]
            self.qubit[i], self.qubit[i + 1] = qb, qa
            self.where[qa], self.where[qb] = i + 1, i
        k = self.last[i]
        if k >= 0 and k == self.last[i + 1]:              # same pair, nothing in between
            merged = m @ self.mats[k]
            if self.xp is np and abs(merged[0, 0] - 1) <= IDENTITY_ATOL \
                    and np.abs(merged - self.eye_pair).max() <= IDENTITY_ATOL:
                self.alive[k] = False
                self.last[i], self.last[i + 1] = self.before[k]
            else:
                self.mats[k] = merged
            return
        pa, pb = self.pending[i], self.pending[i + 1]
        if pa is not None or pb is not None:
            m = m @ self.xp.kron(self.eye if pa is None else pa, self.eye if pb is None else pb)
            self.pending[i] = self.pending[i + 1] = None
        self.before.append((self.last[i], self.last[i + 1]))
        self.mats.append(m)
        self.pos.append(i)
        self.alive.append(True)
        self.last[i] = self.last[i + 1] = len(self.mats) - 1

    def restore_order(self) -> None:
        """SWAPs that put qubit q back on site q (a bubble sort, at most n(n-1)/2 SWAPs)."""
        for q in range(self.n):
            while self.where[q] > q:
                self.emit(self.swap, self.where[q] - 1)


ROUTINGS = ("auto", "lazy", "back")


def compile_program(ops, n_sites: int, d: int = 2, dtype=jnp.complex128,
                    routing: str = "auto") -> GateProgram:
    """Compile ``ops``: an iterable of ``(matrix, sites)`` with ``sites`` a tuple of ints.

    ``routing``: ``"lazy"``, ``"back"`` (there and back) or ``"auto"``: for concrete gates
    there and back unless lazy routing saves more than a quarter of the gates
    (``LAZY_ROUTING_MARGIN``), lazy for traced ones (see the module docstring).

    Concrete matrices are fused in numpy (complex128) and cast to ``dtype`` once; if any is
    a JAX tracer, the fusion is traced too (and nothing is dropped as an identity).
    """
    if routing not in ROUTINGS:
        raise ValueError(f"routing must be one of {ROUTINGS}, got {routing!r}")
    ops = list(ops)
    traced = any(not isinstance(m, np.ndarray) and isinstance(m, jax.core.Tracer)
                 for m, _ in ops)
    xp = jnp if traced else np
    if traced:
        wide = jnp.dtype(dtype)
    else:
        ops = [(np.asarray(m), sites) for m, sites in ops]
        wide = np.result_type(np.float64, jnp.dtype(dtype), *{m.dtype for m, _ in ops})
        converted = {}          # circuits repeat the same matrix objects: convert each once
        ops = [(converted.get(id(m)) if id(m) in converted
                else converted.setdefault(id(m), m.astype(wide)), sites) for m, sites in ops]
    fuser, routed = _fuse(ops, n_sites, d, xp, wide, back=routing == "back")
    if routing == "auto" and routed and not traced:
        other, _ = _fuse(ops, n_sites, d, xp, wide, back=True)
        if sum(fuser.alive) > LAZY_ROUTING_MARGIN * sum(other.alive):
            fuser = other
    keep = [k for k, alive in enumerate(fuser.alive) if alive]
    matrices = [fuser.mats[k] for k in keep]
    sites = np.asarray([fuser.pos[k] for k in keep], np.int32)
    final = [fuser.eye if p is None else p for p in fuser.pending]
    if traced:
        gates = jnp.stack(matrices).astype(dtype) if matrices else \
            jnp.zeros((0, d * d, d * d), dtype)
        final = jnp.stack(final).astype(dtype)
    else:                       # device_put: jnp.asarray compiles a program per shape
        gates = jax.device_put((np.stack(matrices) if matrices else
                                np.zeros((0, d * d, d * d))).astype(dtype))
        final = jax.device_put(np.stack(final).astype(dtype))
    ranks = _operator_schmidt_ranks(matrices, d)
    return GateProgram(sites, gates, final, _bond_bound(sites, ranks, n_sites, d), ranks)


def _fuse(ops, n_sites: int, d: int, xp, wide, back: bool) -> tuple[_Fuser, bool]:
    """The fused, routed gates (:class:`_Fuser`) and whether any gate needed a SWAP."""
    fuser = _Fuser(n_sites, d, xp)
    fuser.eye, fuser.swap = fuser.eye.astype(wide), fuser.swap.astype(wide)
    routed = False
    for (matrix, sites), after in zip(ops, _next_shared(ops)):
        if xp is not np:
            matrix = xp.asarray(matrix).astype(wide)
        if len(sites) == 1:
            fuser.single(matrix, sites[0])
        elif len(sites) == 2:
            routed |= fuser.pair(matrix, *sites, back=back, after=after)
        else:
            raise ValueError(f"a program takes gates on one or two sites, got sites {sites}")
    fuser.restore_order()
    return fuser, routed


def _next_shared(ops) -> list:
    """For each two-qubit gate that shares exactly one qubit s with the next two-qubit gate
    (on s and t), ``(s, t)``; else None."""
    out, following = [None] * len(ops), None
    for k in range(len(ops) - 1, -1, -1):
        sites = ops[k][1]
        if len(sites) != 2:
            continue
        if following is not None and len(set(sites) & set(following)) == 1:
            s = sites[0] if sites[0] in following else sites[1]
            out[k] = (s, following[1] if following[0] == s else following[0])
        following = sites
    return out


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

    Exact mode (``max_bond=None``) takes twice the structural bound for a traced program:
    then every bond keeps room for all directions it can grow into, and gradients are exact
    at rank-deficient points too (e.g. all angles zero), see ``qtnet.tn.evolve``. A concrete
    program has nothing to differentiate, so the bound itself is enough room.
    """
    exact = program.exact_bond
    room = 2 * exact if program.traced else exact
    if max_bond is None:
        if exact > MAX_EXACT_BOND:
            raise ValueError(f"an exact MPS of this circuit may need bond {exact} "
                             f"(> {MAX_EXACT_BOND}); pass max_bond to truncate")
        return max(1, room) if n_qubits > 1 else 1
    if int(max_bond) < 1:
        raise ValueError(f"max_bond must be a positive integer, got {max_bond}")
    return max(1, min(int(max_bond), room))         # never less room than exact mode
