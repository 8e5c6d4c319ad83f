"""Conversion to and from tensornetwork's ``FiniteMPS`` / ``FiniteMPO`` (numpy or jax backend).

The package is tensornetwork-ng, the maintained fork of Google's tensornetwork (which has had
no release since 2021); it imports as ``tensornetwork``. ``pip install 'qtnet[tensornetwork]'``.

Index orders: ``FiniteMPS`` site tensors "l p r", as qtnet's; ``FiniteMPO`` site tensors
"l r o i" (qtnet's MPO: "l o i r"), ``o`` the index that meets the bra. An exported MPS is
in canonical form with its centre at site 0: qtnet's right-orthonormal tensors, with the
norm on site 0 (``exp(log_norm) B_0``), bonds cut to the Schmidt values in use.
"""

from __future__ import annotations

import numpy as np

from qtnet.tn.interop.arrays import (mpo_from_site_arrays, mpo_site_arrays,
                                     mps_from_site_arrays, mps_site_arrays)
from qtnet.tn.mpo import MPO
from qtnet.tn.mps import MPS

BACKENDS = ("numpy", "jax")


def tensornetwork_module():
    """The ``tensornetwork`` package, or an ImportError saying how to install it."""
    try:
        import tensornetwork
    except ImportError:
        raise ImportError("the tensornetwork conversions need tensornetwork-ng: "
                          "pip install 'qtnet[tensornetwork]'") from None
    return tensornetwork


def to_tensornetwork(state, backend: str = "numpy"):
    """``FiniteMPS`` (from an :class:`MPS`) or ``FiniteMPO`` (from an :class:`MPO`) whose
    tensors live on ``backend`` ("numpy" or "jax")."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    tn = tensornetwork_module()
    if isinstance(state, MPO):
        arrays = [a.transpose(0, 3, 1, 2) for a in mpo_site_arrays(state)]   # "l r o i"
        return tn.FiniteMPO(arrays, backend=backend)
    if not isinstance(state, MPS):
        raise ValueError(f"to_tensornetwork takes an MPS or MPO, got {type(state).__name__}")
    mps = tn.FiniteMPS(mps_site_arrays(state), canonicalize=False, backend=backend)
    mps.center_position = 0        # already canonical: right-orthonormal right of site 0
    return mps


def to_tensornetwork_nodes(state, backend: str = "numpy") -> list:
    """Plain ``tensornetwork.Node`` s, one per site, each connected to the next along its
    bond: "l p r" for an :class:`MPS` (the norm on site 0), "l o i r" for an :class:`MPO`.
    The two end bonds (size 1) and the physical edges are left dangling."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    tn = tensornetwork_module()
    if isinstance(state, MPO):
        arrays = mpo_site_arrays(state)
    elif isinstance(state, MPS):
        arrays = mps_site_arrays(state)
    else:
        raise ValueError(f"to_tensornetwork_nodes takes an MPS or MPO, "
                         f"got {type(state).__name__}")
    nodes = [tn.Node(a, name=f"site{i}", backend=backend) for i, a in enumerate(arrays)]
    for left, right in zip(nodes, nodes[1:]):
        left[-1] ^ right[0]
    return nodes


def from_tensornetwork(network, *, max_bond: int | None = None, cutoff: float = 0.0,
                       dtype=None):
    """qtnet :class:`MPS` (canonical, norm kept in ``log_norm``) from a ``FiniteMPS`` in any
    gauge, or :class:`MPO` from a ``FiniteMPO``."""
    tn = tensornetwork_module()
    if not isinstance(network, (tn.FiniteMPS, tn.FiniteMPO)):
        raise ValueError(f"from_tensornetwork takes a FiniteMPS or FiniteMPO, "
                         f"got {type(network).__name__}")
    arrays = [np.asarray(t) for t in network.tensors]
    if isinstance(network, tn.FiniteMPO):
        return mpo_from_site_arrays([a.transpose(0, 2, 3, 1) for a in arrays], dtype=dtype)
    if getattr(network, "connector_matrix", None) is not None:
        arrays[-1] = np.tensordot(arrays[-1], np.asarray(network.connector_matrix), axes=1)
    return mps_from_site_arrays(arrays, max_bond=max_bond, cutoff=cutoff, dtype=dtype)
