"""The MPS pytree: fixed-shape site tensors in right-canonical (Vidal-Hastings) form.

Layout of one state of ``n`` sites, physical dimension ``d``, bond cap ``chi``::

    tensors  [n, chi, d, chi]   site tensors B_i, index order "l p r", zero-padded
    schmidt  [n + 1, chi]       singular values on each bond; schmidt[b] sits left of site b
    log_norm []                 the state is exp(log_norm) * (network of B's)
    log_fidelity []             sum of log(1 - discarded weight) over every truncation
    ranks    [n + 1] int32      structural bound: the largest rank each bond could have for
                                any value of the parameters that produced the state

      schmidt[0]   B_0   schmidt[1]   B_1          B_{n-1}   schmidt[n]
        (e_0) ---- [ ] ---- (s) ----- [ ] -- ... -- [ ] ---- (e_0)
                    |                  |             |

The open boundary bonds are represented by index 0 of the padded bond (e_0). The network
of B's has unit norm and every B is right-orthonormal (``sum_{p r} B B^* = 1``), so the
state is in canonical form: ``schmidt[b]`` are its Schmidt coefficients across bond ``b``
and ``diag(schmidt[i]) B_i B_{i+1}`` is the two-site centre used to apply a gate there.
Truncating operations keep this form (exactly when untruncated, to truncation accuracy
otherwise, as in TEBD); operations that break it end with :func:`canonicalize`.

``ranks`` is what makes gradients right at rank-deficient points (a product state, a gate
that happens to act trivially): a bond whose current rank is below its structural bound
keeps its empty slots pointed at the directions the state can grow into, so the derivative
of a parameter that would raise the rank is not lost (see :mod:`qtnet.tn.evolve`).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.log_scaled import LogScaled
from qtnet.tn.shapes import BatchScalar, BondRanks, SchmidtValues, SiteTensors, StateVector


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MPS(LogScaled):
    """A matrix product state with fixed shapes; see the module docstring for layout."""

    tensors: SiteTensors
    schmidt: SchmidtValues
    log_norm: BatchScalar
    log_fidelity: BatchScalar
    ranks: BondRanks

    @property
    def n_sites(self) -> int:
        return self.tensors.shape[-4]

    @property
    def bond_cap(self) -> int:
        return self.tensors.shape[-3]

    @property
    def phys_dim(self) -> int:
        return self.tensors.shape[-2]

    @property
    def dtype(self):
        return self.tensors.dtype

    def bond_dims(self, rtol: float | None = None) -> BondRanks:
        """Bond dimensions in use: the number of non-negligible Schmidt values per bond."""
        if rtol is None:
            rtol = float(jnp.finfo(self.schmidt.dtype).eps) * 10
        smax = jnp.max(self.schmidt, axis=-1, keepdims=True)
        return jnp.sum(self.schmidt > rtol * smax, axis=-1)

    def max_bond_used(self) -> int:
        schmidt = np.asarray(self.schmidt)          # on the host: a number to report
        rtol = float(np.finfo(schmidt.dtype).eps) * 10
        return int(np.max(np.sum(schmidt > rtol * schmidt.max(axis=-1, keepdims=True), -1)))

    def to_dense(self) -> jax.Array:
        return to_dense(self)

    def __repr__(self) -> str:
        return (f"MPS(n_sites={self.n_sites}, phys_dim={self.phys_dim}, "
                f"bond_cap={self.bond_cap}, dtype={self.dtype})")


def default_dtype():
    """complex128 when ``jax_enable_x64`` is on, complex64 otherwise."""
    return jnp.complex128 if jax.config.jax_enable_x64 else jnp.complex64


def real_dtype(dtype):
    """The real dtype of the same precision (float64 for complex128)."""
    return jnp.finfo(dtype).dtype


def full_ranks(n_sites: int, phys_dim: int, chi: int) -> BondRanks:
    """Structural ranks of an arbitrary state: ``min(chi, d^min(b, n - b))`` per bond."""
    b = np.arange(n_sites + 1)
    return jnp.asarray(np.minimum(chi, float(phys_dim) ** np.minimum(b, n_sites - b)), jnp.int32)


def boundary_schmidt(chi: int, dtype) -> jax.Array:
    """Schmidt vector of an open boundary bond: weight 1 on slot 0 (e_0)."""
    return jnp.zeros((chi,), real_dtype(dtype)).at[0].set(1.0)


def to_dense(mps: MPS) -> StateVector:
    """The full state vector (site 0 most significant). For small ``n`` only."""
    n, chi, d, _ = mps.tensors.shape
    if n > 26:
        raise ValueError(f"to_dense on {n} sites would need {d}^{n} amplitudes; limit is 26 sites")
    vec = mps.tensors[0][0]                       # [p, r]
    for i in range(1, n):
        # [(p...), r] x [r, p, r'] -> [(p... p), r']
        vec = jnp.einsum("xa,apb->xpb", vec, mps.tensors[i]).reshape(-1, chi)
    return vec[:, 0] * jnp.exp(mps.log_norm).astype(mps.dtype)
