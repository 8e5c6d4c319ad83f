"""A batch of MPS (a dataset's states) as the states of any backend, built once on the host."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from qtnet.tn import backends
from qtnet.tn.canonical import compress, with_bond_cap
from qtnet.tn.mps import MPS, to_dense
from qtnet.tn.ttn.network import TTN, from_mps


def mps_batch_as(backend, states: MPS, *, max_bond: int | None = None, dtype=None):
    """``states`` (an MPS batch ``[S, n, chi, d, chi]``) on ``backend``, stacked.

    An MPS batch is re-padded (or compressed) to ``max_bond``; a tree is built from each MPS
    (:func:`qtnet.tn.ttn.from_mps`, bond ``max_bond``); any other backend encodes each
    state's amplitudes (small ``n`` only).
    """
    target = backends.get(backend)
    dtype = jnp.dtype(dtype or states.dtype)
    one = [jax.tree.map(lambda a, i=i: a[i], states) for i in range(states.tensors.shape[0])]
    if target.state_type is MPS:
        cap = max_bond or states.bond_cap
        fit = ((lambda s: with_bond_cap(s, cap)) if cap >= states.bond_cap
               else (lambda s: compress(s, max_bond=cap)[0]))
        out = [target.astype(fit(s), dtype) for s in one]
    elif target.state_type is TTN:
        out = [target.astype(from_mps(s, max_bond=max_bond), dtype) for s in one]
    else:
        out = [target.encode(to_dense(s), dtype=dtype) for s in one]
    return jax.tree.map(lambda *a: jnp.stack(a), *out)
