"""Site tensors in and out of qtnet's padded pytrees, for the conversions to other libraries."""

from __future__ import annotations

import numpy as np

from qtnet.tn.canonical import canonicalize
from qtnet.tn.mpo import MPO
from qtnet.tn.mps import MPS, default_dtype, real_dtype


def mps_site_arrays(state: MPS) -> list[np.ndarray]:
    """Site tensors "l p r" (edge bonds of size 1) cut to the bonds in use, the norm on site 0.

    In right-canonical form a bond slot with Schmidt value 0 carries nothing, so the cut is
    exact: the tensors left are still right-orthonormal (site 0 up to the norm).
    """
    if not isinstance(state, MPS) or np.ndim(state.tensors) != 4:
        raise ValueError(f"expected one (unbatched) MPS, got {type(state).__name__}")
    t = np.asarray(state.tensors)
    n = t.shape[0]
    dims = [1, *[max(1, int(x)) for x in np.asarray(state.bond_dims())[1:n]], 1]
    arrays = [t[i, :dims[i], :, :dims[i + 1]] for i in range(n)]   # "l p r"
    arrays[0] = arrays[0] * np.exp(float(state.log_norm))
    return arrays


def mpo_site_arrays(mpo: MPO) -> list[np.ndarray]:
    """Site tensors "l o i r", edge bonds of size 1 (index 0 of the padded bond)."""
    if not isinstance(mpo, MPO) or np.ndim(mpo.tensors) != 5:
        raise ValueError(f"expected one (unbatched) MPO, got {type(mpo).__name__}")
    t = np.asarray(mpo.tensors)
    arrays = [t[i] for i in range(t.shape[0])]
    arrays[0], arrays[-1] = arrays[0][:1], arrays[-1][..., :1]
    return arrays


def mps_from_site_arrays(arrays, *, max_bond: int | None = None, cutoff: float = 0.0,
                         dtype=None) -> MPS:
    """qtnet MPS (canonical, norm in ``log_norm``) from site tensors "l p r" of any bonds."""
    dtype = dtype or default_dtype()
    cap = max(max(a.shape[0], a.shape[-1]) for a in arrays)
    stacked = np.stack([np.pad(a, ((0, cap - a.shape[0]), (0, 0), (0, cap - a.shape[-1])))
                        for a in arrays]).astype(dtype)
    n, rdt = len(arrays), real_dtype(dtype)
    raw = MPS(stacked, np.zeros((n + 1, cap), rdt), np.zeros((), rdt), np.zeros((), rdt),
              np.ones((n + 1,), np.int32))
    state, _ = canonicalize(raw, max_bond=max_bond or cap, cutoff=cutoff)
    return state


def mpo_from_site_arrays(arrays, *, dtype=None) -> MPO:
    """qtnet MPO from site tensors "l o i r" of any bonds (padded to the largest)."""
    dtype = dtype or default_dtype()
    cap = max(max(a.shape[0], a.shape[-1]) for a in arrays)
    stacked = np.stack([np.pad(a, ((0, cap - a.shape[0]), (0, 0), (0, 0),
                                   (0, cap - a.shape[-1]))) for a in arrays])
    return MPO(np.asarray(stacked, dtype))
