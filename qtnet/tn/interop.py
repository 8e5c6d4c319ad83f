"""Conversion to and from quimb's MatrixProductState / MatrixProductOperator.

quimb is the toolbox around qtnet's hot path (reference contractions, DMRG, plotting).
Exported states drop the padding: bonds are cut to the Schmidt values in use.
"""

from __future__ import annotations

import numpy as np

from qtnet.tn.canonical import canonicalize
from qtnet.tn.mpo import MPO
from qtnet.tn.mps import MPS, default_dtype, real_dtype


def _qtn():
    import quimb.tensor as qtn

    return qtn


def to_quimb(state):
    """quimb ``MatrixProductState`` (from :class:`MPS`) or ``MatrixProductOperator`` (from MPO)."""
    if isinstance(state, MPO):
        return _mpo_to_quimb(state)
    if not isinstance(state, MPS):
        raise ValueError(f"to_quimb takes an MPS or MPO, got {type(state).__name__}")
    t = np.asarray(state.tensors)
    n = t.shape[0]
    dims = [1, *[max(1, int(x)) for x in np.asarray(state.bond_dims())[1:n]], 1]
    arrays = [t[i, :dims[i], :, :dims[i + 1]] for i in range(n)]   # "l p r"
    arrays[0] = arrays[0] * np.exp(float(state.log_norm))
    arrays = _drop_edges(arrays, left_axis=0, right_axis=-1)
    return _qtn().MatrixProductState(arrays, shape="lpr")


def _mpo_to_quimb(mpo: MPO):
    t = np.asarray(mpo.tensors)
    arrays = _drop_edges([t[i] for i in range(t.shape[0])], left_axis=0, right_axis=-1)
    return _qtn().MatrixProductOperator(arrays, shape="ludr")


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
    dtype = dtype or default_dtype()
    if isinstance(qmps, qtn.MatrixProductOperator):
        arrays = _mpo_site_arrays(qmps)
        cap = max(max(a.shape[0], a.shape[-1]) for a in arrays)
        stacked = np.stack([np.pad(a, ((0, cap - a.shape[0]), (0, 0), (0, 0),
                                       (0, cap - a.shape[-1]))) for a in arrays])
        return MPO(np.asarray(stacked, dtype))
    if not isinstance(qmps, qtn.MatrixProductState):
        raise ValueError(f"from_quimb takes a quimb MatrixProductState or MatrixProductOperator, "
                         f"got {type(qmps).__name__}")
    arrays = _mps_site_arrays(qmps)
    cap = max(max(a.shape[0], a.shape[-1]) for a in arrays)
    stacked = np.stack([np.pad(a, ((0, cap - a.shape[0]), (0, 0), (0, cap - a.shape[-1])))
                        for a in arrays]).astype(dtype)
    n = len(arrays)
    rdt = real_dtype(dtype)
    raw = MPS(stacked, np.zeros((n + 1, cap), rdt), np.zeros((), rdt), np.zeros((), rdt),
              np.ones((n + 1,), np.int32))
    state, _ = canonicalize(raw, max_bond=max_bond or cap, cutoff=cutoff)
    return state


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
