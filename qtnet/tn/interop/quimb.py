"""Conversion to and from quimb's MatrixProductState / MatrixProductOperator.

quimb is the toolbox around qtnet's hot path (reference contractions, DMRG, plotting).
Exported states drop the padding: bonds are cut to the Schmidt values in use.
"""

from __future__ import annotations

import numpy as np

from qtnet.tn.interop.arrays import (mpo_from_site_arrays, mpo_site_arrays,
                                     mps_from_site_arrays, mps_site_arrays)
from qtnet.tn.mpo import MPO
from qtnet.tn.mps import MPS


def _qtn():
    import quimb.tensor as qtn

    return qtn


def to_quimb(state):
    """quimb ``MatrixProductState`` (from :class:`MPS`) or ``MatrixProductOperator`` (from MPO)."""
    if isinstance(state, MPO):
        arrays = _drop_edges(mpo_site_arrays(state), left_axis=0, right_axis=-1)
        return _qtn().MatrixProductOperator(arrays, shape="ludr")
    if not isinstance(state, MPS):
        raise ValueError(f"to_quimb takes an MPS or MPO, got {type(state).__name__}")
    arrays = _drop_edges(mps_site_arrays(state), left_axis=0, right_axis=-1)
    return _qtn().MatrixProductState(arrays, shape="lpr")


def _drop_edges(arrays, left_axis, right_axis):
    """Quimb stores the end sites without their missing bond: take index 0 there."""
    if len(arrays) == 1:
        return [np.take(np.take(arrays[0], 0, axis=left_axis), 0, axis=right_axis)]
    out = list(arrays)
    out[0] = np.take(out[0], 0, axis=left_axis)
    out[-1] = np.take(out[-1], 0, axis=right_axis)
    return out


def from_quimb(qmps, *, max_bond: int | None = None, cutoff: float = 0.0, dtype=None):
    """qtnet :class:`MPS` (canonical) or :class:`MPO` from a quimb MPS / MPO."""
    qtn = _qtn()
    if isinstance(qmps, qtn.MatrixProductOperator):
        return mpo_from_site_arrays(_mpo_site_arrays(qmps), dtype=dtype)
    if not isinstance(qmps, qtn.MatrixProductState):
        raise ValueError(f"from_quimb takes a quimb MatrixProductState or MatrixProductOperator, "
                         f"got {type(qmps).__name__}")
    return mps_from_site_arrays(_mps_site_arrays(qmps), max_bond=max_bond, cutoff=cutoff,
                                dtype=dtype)


def _site_arrays(tn, physical):
    """Site tensors of a quimb 1D network as "l <physical...> r", 1-sized edge bonds added."""
    n = tn.L
    out = []
    for i in range(n):
        inds = [tn.bond(i - 1, i) if i > 0 else None, *physical(i),
                tn.bond(i, i + 1) if i < n - 1 else None]
        out.append(_ordered(tn[tn.site_tag(i)], inds))
    return out


def _mps_site_arrays(qmps):
    return _site_arrays(qmps, lambda i: [qmps.site_ind(i)])


def _mpo_site_arrays(qmpo):
    return _site_arrays(qmpo, lambda i: [qmpo.upper_ind(i), qmpo.lower_ind(i)])


def _ordered(tensor, inds):
    data = tensor.transpose(*[x for x in inds if x is not None]).data
    for axis, ind in enumerate(inds):
        if ind is None:
            data = np.expand_dims(data, axis)
    return np.asarray(data)
