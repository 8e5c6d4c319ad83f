"""The lazy circuit state of the ``tn`` backend and the networks its read-outs contract.

A :class:`NetworkState` holds what was done, not its result: the initial state (one unit
vector per site, or one dense tensor after :func:`encode`) and the gates applied since, as
blocks of stacked matrices with the sites each acts on (static). A read-out builds one
network of the whole expression (``<psi| O |psi>``: initial state, gates, observable, the
adjoint gates, the initial state's conjugate) and contracts it exactly
(:mod:`qtnet.tn.network`: a cotengra path found once per structure, JAX einsums).

Light cone: before building ``<psi| O |psi>`` the gates are walked from the last one back;
a unitary gate that touches no site of the observable's support nor of a gate kept after
it meets its adjoint with nothing between them (``U^dagger U = 1``) and is dropped. At
depth D only about 2D sites around a local observable remain, whatever ``n``.

Unitarity: concrete gate matrices are checked when applied (a non-unitary block is never
dropped, it widens the light cone instead). Traced matrices cannot be checked: they are
taken to be unitary, as every gate the engine builds from parameters (rotations, ansatz
gates, SU(4)) is.

Gate layout: a gate on sites ``(a, b)`` is ``[d^2, d^2]``, row ``(out_a, out_b)``, column
``(in_a, in_b)``; as a tensor ``[d, d, d, d]`` "out_a out_b in_a in_b".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import dense
from qtnet.tn.log_scaled import Untruncated
from qtnet.tn.mps import real_dtype, unit_local_vectors
from qtnet.tn.network import PATHS, NetworkSpec, PathCache, contract, unstack
from qtnet.tn.shapes import LocalVectors, VectorLike

MAX_OPEN_QUBITS = 26
"""Most open indices (``d = 2``) an amplitude vector or a reduced density matrix may have."""

Wires = tuple[tuple[int, ...], ...]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class NetworkState(Untruncated):
    initial: jax.Array                  # [n, d] unit vectors, or [d^n] one unit tensor
    blocks: tuple[jax.Array, ...]       # block b: [k_b, d^a, d^a], gate j on wires[b][j]
    log_norm: jax.Array
    wires: tuple[Wires, ...] = dataclasses.field(metadata=dict(static=True))
    unitary: tuple[bool, ...] = dataclasses.field(metadata=dict(static=True))
    order: tuple[tuple[int, int], ...] = dataclasses.field(metadata=dict(static=True))
    """Every gate ``(block, j)`` in the order applied (blocks may interleave)."""
    n_sites: int = dataclasses.field(metadata=dict(static=True))
    phys_dim: int = dataclasses.field(default=2, metadata=dict(static=True))

    @property
    def dtype(self):
        return self.initial.dtype

    @property
    def product(self) -> bool:
        """Whether the initial state is a product of one vector per site."""
        return self.initial.ndim == 2

    @property
    def n_gates(self) -> int:
        return len(self.order)

    def max_bond_used(self) -> None:
        """None: a lazy network holds no bonds."""
        return None


# -- building ----------------------------------------------------------------------------


def product_state(vectors: LocalVectors | str, *, dtype=None) -> NetworkState:
    """A product state (``"0+1"`` labels allowed); the vectors' norms go to ``log_norm``."""
    units, log_norm = unit_local_vectors(vectors, dtype)
    n, d = units.shape
    return NetworkState(units, (), log_norm, (), (), (), n, d)


def encode(vector: VectorLike, *, phys_dim: int = 2, dtype=None) -> NetworkState:
    """A dense vector as a one-tensor network (at most ``dense.MAX_DENSE_SITES`` sites)."""
    psi = dense.from_vector(vector, phys_dim=phys_dim, dtype=dtype)
    return NetworkState(psi.amplitudes, (), psi.log_norm, (), (), (), psi.n_sites, phys_dim)


def _is_unitary(gates) -> bool:
    if isinstance(gates, jax.core.Tracer):
        return True                          # traced: unitary by contract (module docstring)
    g = np.asarray(gates)
    eye = np.eye(g.shape[-1])
    tol = 1e3 * np.finfo(g.dtype).eps
    return bool(np.allclose(np.conj(np.swapaxes(g, -1, -2)) @ g, eye, atol=tol, rtol=0))


def append(state: NetworkState, gates, wires: Sequence[Sequence[int]]) -> NetworkState:
    """``state`` followed by ``gates[j]`` on sites ``wires[j]``, in order (one arity).

    Args:
      state: the network so far.
      gates: ``[k, d^a, d^a]`` matrices.
      wires: ``k`` tuples of ``a`` distinct sites each (concrete).
    """
    return append_blocks(state, [(gates, wires)])


def append_blocks(state: NetworkState, blocks, order=None) -> NetworkState:
    """``state`` followed by the gates of several blocks, in ``order``.

    Args:
      state: the network so far.
      blocks: ``(gates [k, d^a, d^a], wires: k site tuples)`` pairs.
      order: ``(i, j)`` for gate ``j`` of ``blocks[i]``, each gate once, in the order they
        act; default: block by block.
    """
    d, n = state.phys_dim, state.n_sites
    new, where = [], {}                  # non-empty blocks; their index among them
    for i, (gates, wires) in enumerate(blocks):
        wires = tuple(tuple(int(q) for q in w) for w in wires)
        gates = jnp.asarray(gates)
        if not wires:
            if gates.shape[:1] != (0,):
                raise ValueError(f"{gates.shape[0]} gates but no sites for them")
            continue
        arity = len(wires[0])
        shape = (len(wires), d ** arity, d ** arity)
        if gates.shape != shape:
            raise ValueError(f"{len(wires)} gates of {arity} site(s): expected shape {shape}, "
                             f"got {tuple(gates.shape)}")
        for w in wires:
            if len(w) != arity or len(set(w)) != arity or not all(0 <= q < n for q in w):
                raise ValueError(f"gate sites {w}: expected {arity} distinct sites in "
                                 f"0..{n - 1}")
        where[i] = len(new)
        new.append((gates, wires))
    everything = [(i, j) for i in where for j in range(len(new[where[i]][1]))]
    order = everything if order is None else [(int(i), int(j)) for i, j in order]
    if sorted(order) != sorted(everything):
        raise ValueError("a gate order must list every gate of the new blocks once")
    if not new:
        return state
    dtype = jnp.result_type(state.dtype, *(g.dtype for g, _ in new))
    state = astype(state, dtype)
    base = len(state.blocks)
    return dataclasses.replace(
        state, blocks=state.blocks + tuple(g.astype(dtype) for g, _ in new),
        wires=state.wires + tuple(w for _, w in new),
        unitary=state.unitary + tuple(_is_unitary(g) for g, _ in new),
        order=state.order + tuple((base + where[i], j) for i, j in order))


def astype(state: NetworkState, dtype) -> NetworkState:
    """The same network in another dtype."""
    if jnp.dtype(dtype) == state.dtype:
        return state
    return dataclasses.replace(state, initial=state.initial.astype(dtype),
                               blocks=tuple(b.astype(dtype) for b in state.blocks))


def scale(state: NetworkState, factor) -> NetworkState:
    """``factor |psi>``: the modulus into ``log_norm``, the phase into the initial state."""
    factor = jnp.asarray(factor)
    mag = jnp.abs(factor)
    phase = jnp.where(mag > 0, factor / jnp.where(mag > 0, mag, 1), 1).astype(state.dtype)
    initial = state.initial.at[0].multiply(phase) if state.product else state.initial * phase
    return dataclasses.replace(state, initial=initial,
                               log_norm=state.log_norm + jnp.log(mag).astype(
                                   state.log_norm.dtype))


# -- the light cone ----------------------------------------------------------------------


def light_cone(state: NetworkState, support) -> tuple[list[tuple[int, int]], set[int]]:
    """The gates ``(block, j)`` that ``<psi| O |psi>`` needs for ``O`` on ``support``, in
    order, and the sites they and ``support`` touch (every other gate meets its adjoint)."""
    active = set(support)
    kept = []
    for b, j in reversed(state.order):
        w = state.wires[b][j]
        if not state.unitary[b] or active.intersection(w):
            kept.append((b, j))
            active.update(w)
    return kept[::-1], active


# -- networks ----------------------------------------------------------------------------


class _Builder:
    """Tensors and integer index labels of a network under construction."""

    def __init__(self, d: int):
        self.d = d
        self.inputs: list[tuple[int, ...]] = []
        self.arrays: list = []
        self.next = 0

    @staticmethod
    def pieces(stacked, indices) -> dict[int, jax.Array]:
        """``{i: stacked[i]}`` for the concrete ``indices`` (:func:`unstack`)."""
        indices = sorted(set(indices))
        return dict(zip(indices, unstack(stacked, indices)))

    def new(self, k: int = 1) -> list[int]:
        out = list(range(self.next, self.next + k))
        self.next += k
        return out

    def add(self, array, labels) -> None:
        self.inputs.append(tuple(labels))
        self.arrays.append(array)

    def initial(self, state: NetworkState, sites, labels: dict[int, int]):
        """The initial state's tensors on ``sites`` (labels: site -> index)."""
        init = state.initial
        if state.product:
            vectors = self.pieces(init, sites)
            for q in sites:
                self.add(vectors[q], (labels[q],))
        else:
            self.add(init.reshape((self.d,) * state.n_sites),
                     tuple(labels[q] for q in range(state.n_sites)))

    def gates(self, state: NetworkState, kept, labels: dict[int, int], conj: bool):
        """The kept gates in order (ket: labels are the open output indices, updated) or,
        with ``conj`` (``state`` already conjugated), top-down as the bra's adjoints (labels
        are the open input indices)."""
        order = kept[::-1] if conj else kept
        used: dict[int, list[int]] = {}
        for b, j in kept:
            used.setdefault(b, []).append(j)
        pieces = {b: self.pieces(state.blocks[b], js) for b, js in used.items()}
        for b, j in order:
            w = state.wires[b][j]
            a = len(w)
            g = pieces[b][j].reshape((self.d,) * (2 * a))   # "out.. in.."
            fresh = self.new(a)
            if conj:       # <psi| G^dagger: the bra's open index meets G*'s output
                self.add(g, (*(labels[q] for q in w), *fresh))
            else:
                self.add(g, (*fresh, *(labels[q] for q in w)))
            for q, i in zip(w, fresh):
                labels[q] = i

    def spec(self, output=()) -> tuple[NetworkSpec, list]:
        sizes = {i: self.d for sub in self.inputs for i in sub}
        return NetworkSpec(tuple(self.inputs), tuple(output), tuple(sorted(sizes.items()))), \
            self.arrays


def _ket(b: _Builder, state: NetworkState, kept, sites) -> dict[int, int]:
    """The ket part on ``sites``; returns each site's open (output) index."""
    if not state.product:                # one tensor: every site is in the network
        sites = range(state.n_sites)
    labels = dict(zip(sorted(sites), b.new(len(sites))))
    b.initial(state, sorted(labels), labels)
    b.gates(state, kept, labels, conj=False)
    return labels


def _bra(b: _Builder, state: NetworkState, kept, top: dict[int, int]) -> None:
    """The bra part, joined at ``top`` (each site's index at the top of the bra)."""
    labels = dict(top)
    used = {blk for blk, _ in kept}         # conjugate whole blocks: one op each, not per gate
    state = dataclasses.replace(state, initial=jnp.conj(state.initial), blocks=tuple(
        jnp.conj(g) if blk in used else g for blk, g in enumerate(state.blocks)))
    b.gates(state, kept, labels, conj=True)
    b.initial(state, sorted(labels), labels)


def _outside_norm(state: NetworkState, sites) -> jax.Array:
    """Product of ``<v_q|v_q>`` over the sites of a product state outside ``sites``."""
    rest = np.setdiff1d(np.arange(state.n_sites), np.asarray(sorted(sites), int))
    if not state.product or rest.size == 0:
        return jnp.ones((), real_dtype(state.dtype))
    v = state.initial[rest]
    return jnp.prod(jnp.sum(jnp.abs(v) ** 2, axis=-1))


def _sandwich_network(state: NetworkState, ops: dict[int, jax.Array]):
    """The network of ``<psi| (x)_q ops[q] |psi>`` after the light cone, and the sites it
    holds."""
    kept, active = light_cone(state, ops)
    b = _Builder(state.phys_dim)
    ket = _ket(b, state, kept, active)
    top = {}
    for q, i in ket.items():
        if q in ops:
            top[q] = b.new()[0]
            b.add(jnp.asarray(ops[q]).astype(state.dtype), (top[q], i))   # O[bra, ket]
        else:
            top[q] = i
    _bra(b, state, kept, top)
    spec, arrays = b.spec()
    return spec, arrays, ket


def sandwich(state: NetworkState, ops: dict[int, jax.Array], paths: PathCache = PATHS):
    """``<psi| (x)_q ops[q] |psi>`` (``log_norm`` excluded), light cone applied."""
    spec, arrays, sites = _sandwich_network(state, ops)
    return contract(spec, arrays, paths) * _outside_norm(state, sites)


LocalTerms = tuple[tuple[tuple[int, tuple[complex, ...]], ...], ...]
"""Products of local operators as a hashable value (a static jit argument): per term, the
``(site, flattened d x d matrix)`` of each non-identity factor."""


def local_terms(local_ops) -> LocalTerms:
    """The non-identity factors of each concrete ``[n, d, d]`` product in ``local_ops``."""
    ops = np.asarray(local_ops)
    if ops.ndim != 4 or ops.shape[-1] != ops.shape[-2]:
        raise ValueError(f"local operators of shape {ops.shape}: expected [K, n, d, d]")
    eye = np.eye(ops.shape[-1])
    return tuple(tuple((q, tuple(complex(x) for x in ops[k, q].ravel()))
                       for q in range(ops.shape[1]) if not np.array_equal(ops[k, q], eye))
                 for k in range(ops.shape[0]))


def expectation_terms(state: NetworkState, terms: LocalTerms) -> jax.Array:
    """``<psi| term |psi> / <psi|psi>`` for each product in ``terms`` (:func:`local_terms`)."""
    d = state.phys_dim
    ops = [{q: np.asarray(m).reshape(d, d) for q, m in term} for term in terms]
    if any(np.any(np.imag(o)) for term in ops for o in term.values()):
        state = astype(state, jnp.result_type(state.dtype, jnp.complex64))   # Y stays complex
    elif not jnp.iscomplexobj(state.initial):
        ops = [{q: o.real for q, o in term.items()} for term in ops]
    return jnp.stack([sandwich(state, term) for term in ops]) / sandwich(state, {})


def norm_squared(state: NetworkState) -> jax.Array:
    """``<psi|psi>`` (``log_norm`` excluded): unitary gates cancel."""
    return jnp.real(sandwich(state, {}))


def overlap(bra: NetworkState, ket: NetworkState, paths: PathCache = PATHS):
    """``<bra|ket>`` with norms: both circuits in one network (no cancellation)."""
    if (bra.n_sites, bra.phys_dim) != (ket.n_sites, ket.phys_dim):
        raise ValueError(f"overlap of states on {bra.n_sites} and {ket.n_sites} sites")
    dtype = jnp.result_type(bra.dtype, ket.dtype)
    bra, ket = astype(bra, dtype), astype(ket, dtype)
    sites = range(ket.n_sites)
    b = _Builder(ket.phys_dim)
    top = _ket(b, ket, _all_gates(ket), sites)
    _bra(b, bra, _all_gates(bra), top)
    spec, arrays = b.spec()
    return contract(spec, arrays, paths) * jnp.exp(bra.log_norm + ket.log_norm).astype(dtype)


def _all_gates(state: NetworkState):
    return list(state.order)


def check_open(k: int, d: int, what: str) -> None:
    """Refuse a result with more than ``2^MAX_OPEN_QUBITS`` entries."""
    if k * math.log2(d) > MAX_OPEN_QUBITS:
        raise ValueError(f"{what} would have {d}^{k} entries; at most 2^{MAX_OPEN_QUBITS}")


def amplitudes(state: NetworkState, paths: PathCache = PATHS):
    """The full state vector ``[d^n]``, norm included (small ``n`` only)."""
    check_open(state.n_sites, state.phys_dim, "the state vector")
    b = _Builder(state.phys_dim)
    out = _ket(b, state, _all_gates(state), range(state.n_sites))
    spec, arrays = b.spec(tuple(out[q] for q in range(state.n_sites)))
    psi = contract(spec, arrays, paths).reshape(-1)
    return psi * jnp.exp(state.log_norm).astype(psi.dtype)


def amplitude(state: NetworkState, bits: Sequence[int], paths: PathCache = PATHS):
    """``<bits|psi>``, norm included: one basis vector closes each site."""
    if len(bits) != state.n_sites or not all(0 <= int(x) < state.phys_dim for x in bits):
        raise ValueError(f"amplitude of {list(bits)}: expected {state.n_sites} symbols "
                         f"in 0..{state.phys_dim - 1}")
    b = _Builder(state.phys_dim)
    out = _ket(b, state, _all_gates(state), range(state.n_sites))
    eye = jnp.eye(state.phys_dim, dtype=state.dtype)
    for q, x in enumerate(bits):
        b.add(eye[int(x)], (out[q],))
    spec, arrays = b.spec()
    return contract(spec, arrays, paths) * jnp.exp(state.log_norm).astype(state.dtype)


def reduced_density_matrix(state: NetworkState, sites: Sequence[int],
                           paths: PathCache = PATHS):
    """``rho [d^k, d^k]`` of ``sites`` (in the given order), trace one, light cone applied:
    ``rho[x, y] = <x| Tr_rest |psi><psi| |y>`` (rows: ket, columns: bra)."""
    sites = [int(q) for q in sites]
    check_open(2 * len(sites), state.phys_dim, "the reduced density matrix")
    kept, active = light_cone(state, sites)
    b = _Builder(state.phys_dim)
    ket = _ket(b, state, kept, active)
    top = {q: (b.new()[0] if q in sites else i) for q, i in ket.items()}
    _bra(b, state, kept, top)
    spec, arrays = b.spec(tuple(ket[q] for q in sites) + tuple(top[q] for q in sites))
    k = state.phys_dim ** len(sites)
    rho = contract(spec, arrays, paths).reshape(k, k)
    return rho / jnp.trace(rho)


def marginal_probabilities(state: NetworkState, n_first: int):
    """Born probabilities ``[d^n_first]`` of the first ``n_first`` sites (site 0 leading)."""
    if not 1 <= n_first <= state.n_sites:
        raise ValueError(f"marginal over the first {n_first} sites of a {state.n_sites}-site "
                         f"state")
    rho = reduced_density_matrix(state, range(n_first))
    probs = jnp.real(jnp.diagonal(rho))
    return probs / jnp.sum(probs)


def expectation_mpo(state: NetworkState, mpo, paths: PathCache = PATHS):
    """``<psi|O|psi> / <psi|psi>`` of an MPO (cores ``[w, out, in, w']``, closed on bond
    index 0 at both ends); the MPO touches every site, so no gate cancels."""
    if (mpo.n_sites, mpo.phys_dim) != (state.n_sites, state.phys_dim):
        raise ValueError(f"an MPO on {mpo.n_sites} sites for a {state.n_sites}-site state")
    dtype = jnp.result_type(state.dtype, mpo.dtype)
    state = astype(state, dtype)
    n, w = state.n_sites, mpo.bond_cap
    kept, _ = light_cone(state, range(n))
    b = _Builder(state.phys_dim)
    ket = _ket(b, state, kept, range(n))
    bonds = b.new(n + 1)
    top = {}
    cores = b.pieces(mpo.tensors.astype(dtype), range(n))
    for q in range(n):
        top[q] = b.new()[0]
        b.add(cores[q], (bonds[q], top[q], ket[q], bonds[q + 1]))
    edge = np.zeros(w, dtype)
    edge[0] = 1
    b.add(edge, (bonds[0],))
    b.add(edge, (bonds[n],))
    _bra(b, state, kept, top)
    inputs, arrays = b.inputs, b.arrays
    sizes = {i: state.phys_dim for sub in inputs for i in sub}
    sizes.update({i: w for i in bonds})
    spec = NetworkSpec(tuple(inputs), (), tuple(sorted(sizes.items())))
    return contract(spec, arrays, paths) / sandwich(state, {})


def expectation_cost(state: NetworkState, support, paths: PathCache = PATHS) -> tuple[float,
                                                                                          float]:
    """``(multiply-adds, entries of the largest intermediate)`` of ``<psi| O |psi>`` for an
    ``O`` on ``support``: the figures of the plan its read-out will use (planned now if new)."""
    eye = np.eye(state.phys_dim)
    spec, _, _ = _sandwich_network(state, {int(q): eye for q in support})
    if len(spec.inputs) <= 1:
        return 0.0, 1.0
    plan = paths.plan(spec)
    return plan.cost, plan.max_size
