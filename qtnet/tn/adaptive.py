"""Run a concrete gate program on an MPS whose array bond cap follows the state's bond.

A fixed-shape MPS pays for its bond cap on every gate (an SVD of ``[c d, d c]``), even when
the state needs far less: a Grover circuit stays at bond 2 where its structural bound is 16.
When the program is concrete (a circuit, not a traced function of parameters), the gates run
in chunks of ``chunk``, each one compiled scan at the current cap ``c``:

* if the cap bound in a chunk (a Schmidt value above the cutoff was dropped for lack of
  room, :func:`qtnet.tn.evolve.two_site_sequence_capped`) and ``c`` is below the state's own
  cap, the chunk is run again from its start with ``c`` four times larger;
* after a chunk whose nonzero Schmidt values fit in ``c / 4`` slots, ``c`` shrinks to that
  (slicing off slots that hold exactly zero, so nothing is lost).

Caps are powers of two times ``start``, so a circuit compiles the chunk runner a few times
at most. The result is the state the fixed-cap run would give (the same truncations, with the
same cap as the input), padded back to the input's cap.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.canonical import with_bond_cap
from qtnet.tn.evolve import apply_single_site_layer, two_site_sequence_capped
from qtnet.tn.mps_pytree import MPS

CHUNK = 256
START_CAP = 8
GROWTH = 4


@functools.partial(jax.jit, static_argnames=("cutoff",))
def _run_chunk(state, sites, gates, cutoff):
    return two_site_sequence_capped(state, sites, gates, cutoff=cutoff)


def shrink_bond_cap(mps: MPS, chi: int) -> MPS:
    """The state with bond cap ``chi``, slicing off slots ``>= chi`` (which must hold zero)."""
    return dataclasses.replace(mps, tensors=mps.tensors[:, :chi, :, :chi],
                               schmidt=mps.schmidt[:, :chi], ranks=jnp.minimum(mps.ranks, chi))


def nonzero_bond(mps: MPS) -> int:
    """Largest number of nonzero Schmidt values on any bond."""
    return int(np.max(np.count_nonzero(np.asarray(mps.schmidt), axis=-1)))


def apply_program_adaptive(mps: MPS, sites, gates, final, *, cutoff: float,
                           chunk: int = CHUNK, start: int = START_CAP) -> MPS:
    """``final`` after ``gates[k]`` on ``(sites[k], sites[k] + 1)``, with an adaptive cap.

    Args:
      mps: a concrete state; its bond cap is the largest cap used (and the result's).
      sites, gates, final: a concrete :class:`qtnet.tn.GateProgram`'s arrays.
      cutoff: relative Schmidt weight dropped by every gate (> 0 lets the cap shrink).
    """
    cap_max = mps.bond_cap
    sites, gates = np.asarray(sites, np.int32), jnp.asarray(gates)
    n_gates, d2 = gates.shape[0], gates.shape[-1]
    c = min(cap_max, max(start, nonzero_bond(mps)))
    state = shrink_bond_cap(mps, c) if c < cap_max and nonzero_bond(mps) <= c else mps
    c = state.bond_cap
    pad = (-n_gates) % chunk                     # identity gates fill the last chunk
    sites = np.concatenate([sites, np.zeros(pad, np.int32)])
    gates = jnp.concatenate([gates, jnp.broadcast_to(jnp.eye(d2, dtype=gates.dtype),
                                                     (pad, d2, d2))])
    k = 0
    while k < n_gates:
        new, capped = _run_chunk(state, jnp.asarray(sites[k:k + chunk]), gates[k:k + chunk],
                                 cutoff=cutoff)
        if c < cap_max and bool(capped):         # too small: again from the chunk's start
            c = min(cap_max, GROWTH * c)
            state = with_bond_cap(state, c)
            continue
        state, k = new, k + chunk
        used = nonzero_bond(state)
        if GROWTH * used <= c and c > start:
            c = max(start, c // GROWTH)
            state = shrink_bond_cap(state, c)
    if c < cap_max:
        state = with_bond_cap(state, cap_max)
    return apply_single_site_layer(state, final)
