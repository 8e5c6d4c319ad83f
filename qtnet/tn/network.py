"""Exact contraction of a tensor network: a path found once by cotengra, contracted with JAX.

A network is a :class:`NetworkSpec` (its structure: integer index labels per tensor, the
open indices, each index's dimension; hashable) plus one array per tensor. The first
contraction of a structure asks cotengra for a contraction tree and keeps it; every later
contraction of the same structure (new parameters, a retrace under another ``jit``) reuses
it, so a training loop searches once. The contraction itself is pairwise ``jnp.einsum``
along the tree: pure JAX, differentiable, traced into the caller's ``jit``.

Every index appears in at most two tensors (no hyperedges); an index in one tensor only and
not in the output is summed.
"""

from __future__ import annotations

import dataclasses
import functools
import string
import warnings
from collections import Counter

import cotengra as ctg
import jax
import jax.numpy as jnp
import numpy as np

PATH_REPEATS = 16
"""Trial trees per path search: cotengra's greedy driver with random hyper-parameters, the
best tree then refined once by subtree reconfiguration. On the n = 20, D = 8 brickwork
network (105 tensors) this takes ~0.5 s and finds a tree 1.6x the cost of a 32-repeat search
with reconfiguration of every trial (24 s); the contraction itself is ~1e6 multiply-adds."""
_LETTERS = string.ascii_letters


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """The structure of a network: what a contraction path depends on."""

    inputs: tuple[tuple[int, ...], ...]   # index labels of each tensor, in its axis order
    output: tuple[int, ...]               # open indices, in the result's axis order
    sizes: tuple[tuple[int, int], ...]    # (label, dimension), sorted by label

    def size_dict(self) -> dict[int, int]:
        return dict(self.sizes)


@dataclasses.dataclass(frozen=True)
class Plan:
    """A contraction order: pairs of positions in single-static-assignment form (operand
    ``len(inputs) + k`` is the result of step ``k``), and what it costs."""

    ssa_path: tuple[tuple[int, int], ...]
    cost: float          # scalar multiply-adds, summed over the steps
    max_size: float      # entries of the largest intermediate


class PathCache:
    """Plans by network structure, and how many searches were run (a test reads it)."""

    def __init__(self):
        self.plans: dict[NetworkSpec, Plan] = {}
        self.searches = 0

    def plan(self, spec: NetworkSpec) -> Plan:
        """The cached plan of ``spec``, searched for on the first call."""
        found = self.plans.get(spec)
        if found is None:
            self.searches += 1
            found = self.plans[spec] = search_plan(spec)
        return found

    def clear(self) -> None:
        self.plans.clear()
        self.searches = 0


PATHS = PathCache()
"""The process-wide plan cache every contraction here goes through."""


def _optimizer():
    return ctg.HyperOptimizer(methods=["greedy"], max_repeats=PATH_REPEATS, parallel=False,
                              optlib="random", reconf_opts=None, simulated_annealing_opts=None,
                              slicing_opts=None, slicing_reconf_opts=None, progbar=False)


def search_plan(spec: NetworkSpec) -> Plan:
    """Ask cotengra for a contraction tree of ``spec`` (no caching; see :data:`PATHS`)."""
    n = len(spec.inputs)
    if n <= 1:
        return Plan((), 0.0, 0.0)
    optimize = ((0, 1),) if n == 2 else _optimizer()
    with warnings.catch_warnings():          # "no kahypar": the greedy driver does not use it
        warnings.simplefilter("ignore", UserWarning)
        tree = ctg.array_contract_tree(spec.inputs, spec.output, spec.size_dict(),
                                       optimize=optimize)
    if n > 2:
        tree.subtree_reconfigure_(subtree_size=6)
    return Plan(tuple(tuple(p) for p in tree.get_ssa_path()), float(tree.contraction_cost()),
                float(tree.max_size()))


MAX_ONE_HOT = 512
"""Most entries taken from one stacked array by one-hot contractions (:func:`unstack`); more
are sliced (a larger one-hot constant would cost more memory than the slices cost compile)."""


def unstack(stacked, indices) -> tuple:
    """``stacked[i]`` for each concrete ``i`` in ``indices``, cheap to compile.

    XLA on CPU compiles every slice of an array (and in reverse mode every pad of its
    cotangent) as its own kernel: ~10 ms each, ~40 ms on a loaded machine, which made a
    100-gate network take seconds to compile. Here one gather picks the entries, each entry is
    a contraction with a one-hot vector (a dot, no kernel to generate), and the cotangent is
    one stack and one scatter-add. Reverse mode only (a ``custom_vjp``).
    """
    indices = tuple(int(i) for i in indices)
    if not indices:
        return ()
    if len(indices) > MAX_ONE_HOT:
        return tuple(stacked[i] for i in indices)
    return _unstack(stacked, indices)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _unstack(stacked, indices):
    k = stacked.shape[0]
    if indices != tuple(range(k)):
        stacked = stacked[np.asarray(indices)]
    m, rest = len(indices), stacked.shape[1:]
    flat = stacked.reshape(m, -1)
    eye = np.eye(m, dtype=flat.dtype)
    return tuple(jax.lax.dot_general(eye[j], flat, (((0,), (0,)), ((), ()))).reshape(rest)
                 for j in range(m))


def _unstack_fwd(stacked, indices):
    return _unstack(stacked, indices), stacked      # held by the caller anyway


def _unstack_bwd(indices, stacked, cts):
    shape, dtype = stacked.shape, stacked.dtype
    taken = jnp.stack([jnp.asarray(c, dtype) for c in cts])
    if indices == tuple(range(shape[0])):
        return (taken,)
    return (jnp.zeros(shape, dtype).at[np.asarray(indices)].add(taken),)


_unstack.defvjp(_unstack_fwd, _unstack_bwd)


def _einsum(subs_in, sub_out, *arrays):
    """``jnp.einsum`` of integer-labelled operands, relabelled to letters for this call."""
    letters: dict[int, str] = {}
    for sub in (*subs_in, sub_out):
        for i in sub:
            if i not in letters:
                if len(letters) == len(_LETTERS):
                    raise ValueError("a pairwise contraction with more than 52 indices")
                letters[i] = _LETTERS[len(letters)]
    eq = ",".join("".join(letters[i] for i in s) for s in subs_in)
    return jnp.einsum(eq + "->" + "".join(letters[i] for i in sub_out), *arrays)


def _pair(sa, xa, sb, xb, keep):
    """Contract two operands over their shared indices with one ``dot_general``; the result's
    axes are ``a``'s kept indices then ``b``'s (returned with the array)."""
    xa, sa = _sum_out(xa, sa, keep | set(sb))
    xb, sb = _sum_out(xb, sb, keep | set(sa))
    shared = [i for i in sa if i in sb and i not in keep]
    if len(set(sa)) != len(sa) or len(set(sb)) != len(sb) or any(
            i in keep for i in sa if i in sb):
        out = tuple(dict.fromkeys(i for i in (*sa, *sb) if i in keep))
        return out, _einsum((sa, sb), out, xa, xb)
    dims = ((tuple(sa.index(i) for i in shared), tuple(sb.index(i) for i in shared)), ((), ()))
    out = tuple(i for i in sa if i not in shared) + tuple(i for i in sb if i not in shared)
    return out, jax.lax.dot_general(xa, xb, dims)


def _sum_out(x, sub, needed):
    """Sum the axes of ``x`` whose index nothing else needs (a dangling index)."""
    drop = tuple(k for k, i in enumerate(sub) if i not in needed)
    if not drop:
        return x, sub
    return jnp.sum(x, axis=drop), tuple(i for k, i in enumerate(sub) if k not in drop)


def contract(spec: NetworkSpec, arrays, paths: PathCache = PATHS):
    """The contracted network (axes in ``spec.output`` order); traceable, differentiable.

    Args:
      spec: the structure (a cached plan is reused; see :class:`PathCache`).
      arrays: one array per ``spec.inputs`` entry, shaped as its labels' dimensions.
      paths: the plan cache.
    """
    if len(arrays) != len(spec.inputs):
        raise ValueError(f"{len(arrays)} arrays for a network of {len(spec.inputs)} tensors")
    if not arrays:
        return jnp.ones(())
    plan = paths.plan(spec)
    ops = list(zip(spec.inputs, arrays))
    # How many operands (and the output) still hold each index: an index seen by the two
    # operands of a step and nowhere else is summed there.
    count = Counter(i for sub in spec.inputs for i in sub)
    count.update(spec.output)
    for a, b in plan.ssa_path:
        (sa, xa), (sb, xb) = ops[a], ops[b]
        ops[a] = ops[b] = None                      # free them (ssa: never read again)
        joint = Counter(sa) + Counter(sb)
        keep = {i for i in joint if count[i] > joint[i]}
        for i, c in joint.items():
            count[i] -= c
        out, x = _pair(sa, xa, sb, xb, keep)
        count.update(out)
        ops.append((out, x))
    sub, x = ops[-1]
    return _einsum((sub,), spec.output, x)
