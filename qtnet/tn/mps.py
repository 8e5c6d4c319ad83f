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

from qtnet.tn import _checks
from qtnet.tn.svd import svd, truncation_mask


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MPS:
    """A matrix product state with fixed shapes; see the module docstring for layout."""

    tensors: jax.Array
    schmidt: jax.Array
    log_norm: jax.Array
    log_fidelity: jax.Array
    ranks: jax.Array

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

    @property
    def norm(self) -> jax.Array:
        return jnp.exp(self.log_norm)

    @property
    def fidelity_estimate(self) -> jax.Array:
        """Product of (1 - discarded weight) over every truncation this state went through."""
        return jnp.exp(self.log_fidelity)

    def bond_dims(self, rtol: float | None = None) -> jax.Array:
        """Bond dimensions in use: the number of non-negligible Schmidt values per bond."""
        if rtol is None:
            rtol = float(jnp.finfo(self.schmidt.dtype).eps) * 10
        smax = jnp.max(self.schmidt, axis=-1, keepdims=True)
        return jnp.sum(self.schmidt > rtol * smax, axis=-1)

    def max_bond_used(self) -> int:
        return int(jnp.max(self.bond_dims()))

    def to_dense(self) -> jax.Array:
        return to_dense(self)

    def __repr__(self) -> str:
        return (f"MPS(n_sites={self.n_sites}, phys_dim={self.phys_dim}, "
                f"bond_cap={self.bond_cap}, dtype={self.dtype})")


def default_dtype():
    """complex128 when ``jax_enable_x64`` is on, complex64 otherwise."""
    return jnp.complex128 if jax.config.jax_enable_x64 else jnp.complex64


def real_dtype(dtype):
    return jnp.finfo(dtype).dtype


def full_ranks(n_sites: int, phys_dim: int, chi: int) -> jax.Array:
    """Structural ranks of an arbitrary state: ``min(chi, d^min(b, n - b))`` per bond."""
    b = np.arange(n_sites + 1)
    return jnp.asarray(np.minimum(chi, float(phys_dim) ** np.minimum(b, n_sites - b)), jnp.int32)


def boundary_schmidt(chi: int, dtype) -> jax.Array:
    return jnp.zeros((chi,), real_dtype(dtype)).at[0].set(1.0)


def product_state(vectors, *, max_bond: int = 1, dtype=None) -> MPS:
    """Product state from one local vector per site.

    Args:
      vectors: ``[n, d]`` local vectors (normalised here; their norms go into ``log_norm``),
        or a string of ``0``/``1``/``+``/``-`` such as ``"0+10"``.
      max_bond: the bond cap ``chi`` of the returned state (fixed for its lifetime).
      dtype: complex dtype; defaults to :func:`default_dtype`.
    """
    if isinstance(vectors, str):
        vectors = _vectors_from_label(vectors)
    dtype = dtype or default_dtype()
    vectors = jnp.asarray(vectors, dtype)
    if vectors.ndim != 2:
        raise ValueError(f"product_state expects [n_sites, d] vectors, got shape {vectors.shape}")
    _checks.require_finite(vectors, "product_state vectors")
    norms = jnp.linalg.norm(vectors, axis=-1)
    _checks.require_nonzero(norms, "product_state vectors")
    n, d = vectors.shape
    tensors = jnp.zeros((n, max_bond, d, max_bond), dtype)
    tensors = tensors.at[:, 0, :, 0].set(vectors / norms[:, None])
    schmidt = jnp.broadcast_to(boundary_schmidt(max_bond, dtype), (n + 1, max_bond))
    rdt = real_dtype(dtype)
    return MPS(tensors, schmidt, jnp.sum(jnp.log(norms)).astype(rdt), jnp.zeros((), rdt),
               jnp.ones((n + 1,), jnp.int32))


def computational_basis_state(bits, *, max_bond: int = 1, dtype=None) -> MPS:
    """|b_0 b_1 ... b_{n-1}> with site 0 the most significant bit."""
    bits = np.asarray(bits, int)
    return product_state(np.eye(2)[bits], max_bond=max_bond, dtype=dtype)


_LABELS = {"0": [1, 0], "1": [0, 1], "+": [2**-0.5, 2**-0.5], "-": [2**-0.5, -2**-0.5]}


def _vectors_from_label(label: str) -> np.ndarray:
    bad = sorted(set(label) - set(_LABELS))
    if bad or not label:
        raise ValueError(f"product state label {label!r}: use only the characters 0 1 + -")
    return np.array([_LABELS[c] for c in label], float)


def mps_from_dense(psi, *, n_sites: int | None = None, phys_dim: int = 2,
                   max_bond: int | None = None, cutoff: float = 0.0, dtype=None) -> MPS:
    """MPS of a dense vector by TT-SVD from the right (gives the canonical form directly).

    Args:
      psi: vector of length ``phys_dim ** n_sites``. Not normalised: its norm goes into
        ``log_norm``. Pad data to a power of the physical dimension yourself
        (:func:`qtnet.tn.pad_to_power`) — a silent pad would change what the state means.
      max_bond: bond cap; ``None`` keeps every Schmidt value (exact).
      cutoff: drop Schmidt values whose relative weight ``s^2 / sum(s^2)`` is at most this.
    """
    dtype = dtype or default_dtype()
    psi = jnp.asarray(psi).astype(dtype).reshape(-1)
    n = _checks.sites_for_length(psi.shape[0], phys_dim, n_sites)
    _checks.require_finite(psi, "mps_from_dense input")
    exact_cap = phys_dim ** (n // 2)
    chi = exact_cap if max_bond is None else int(max_bond)
    rdt = real_dtype(dtype)

    norm = jnp.linalg.norm(psi)
    _checks.require_nonzero(norm, "mps_from_dense input")
    rest = (psi / norm).reshape(-1, 1)            # [d^(i+1), bond]
    tensors, schmidts = [], []
    log_fid = jnp.zeros((), rdt)
    for _ in range(n - 1, 0, -1):
        left, bond = rest.shape[0] // phys_dim, rest.shape[1]
        # rest: [(left, p), r] -> [left, (p, r)]
        u, s, vh = svd(rest.reshape(left, phys_dim * bond))
        keep = min(chi, s.shape[0])
        mask = truncation_mask(s, keep, cutoff)[:keep]
        s_k = jnp.where(mask, s[:keep], 0.0)
        kept = jnp.sum(s_k**2)
        log_fid = log_fid + jnp.log(kept / jnp.sum(s**2))
        s_k = s_k / jnp.sqrt(kept)
        b = (vh[:keep] * mask[:, None]).reshape(keep, phys_dim, bond)
        tensors.append(_pad_site(b, chi))
        schmidts.append(jnp.pad(s_k, (0, chi - keep)))
        rest = u[:, :keep] * s_k[None, :]
    first = rest.reshape(1, phys_dim, -1)
    tensors.append(_pad_site(first, chi))
    tensors = jnp.stack(tensors[::-1])
    edge = boundary_schmidt(chi, dtype)
    schmidt = jnp.stack([edge, *schmidts[::-1], edge])
    return MPS(tensors, schmidt, jnp.log(norm).astype(rdt), log_fid,
               full_ranks(n, phys_dim, chi))


def _pad_site(b, chi):
    left, _, right = b.shape
    return jnp.pad(b, ((0, chi - left), (0, 0), (0, chi - right)))


def pad_to_power(x, phys_dim: int = 2):
    """Zero-pad a vector to the next power of ``phys_dim`` (explicit, for encodings)."""
    x = jnp.asarray(x).reshape(-1)
    n = max(1, int(np.ceil(np.log(x.shape[0]) / np.log(phys_dim) - 1e-12)))
    return jnp.pad(x, (0, phys_dim**n - x.shape[0]))


def to_dense(mps: MPS) -> jax.Array:
    """The full state vector (site 0 most significant). For small ``n`` only."""
    n, chi, d, _ = mps.tensors.shape
    if n > 26:
        raise ValueError(f"to_dense on {n} sites would need {d}^{n} amplitudes; limit is 26 sites")
    vec = mps.tensors[0][0]                       # [p, r]
    for i in range(1, n):
        # [(p...), r] x [r, p, r'] -> [(p... p), r']
        vec = jnp.einsum("xa,apb->xpb", vec, mps.tensors[i]).reshape(-1, chi)
    return vec[:, 0] * jnp.exp(mps.log_norm).astype(mps.dtype)


def random_mps(key, n_sites: int, bond_dim: int, *, phys_dim: int = 2,
               max_bond: int | None = None, dtype=None) -> MPS:
    """A random normalised MPS with bond dimension ``bond_dim`` (Gaussian site tensors)."""
    from qtnet.tn.canonical import canonicalize

    dtype = dtype or default_dtype()
    cap = max_bond or bond_dim
    if bond_dim > cap:
        raise ValueError(f"bond_dim {bond_dim} exceeds max_bond {cap}")
    kr, ki = jax.random.split(key)
    shape = (n_sites, bond_dim, phys_dim, bond_dim)
    rdt = real_dtype(dtype)
    t = jax.random.normal(kr, shape, rdt)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        t = t + 1j * jax.random.normal(ki, shape, rdt)
    t = jnp.pad(t.astype(dtype), ((0, 0), (0, cap - bond_dim), (0, 0), (0, cap - bond_dim)))
    raw = MPS(t, jnp.zeros((n_sites + 1, cap), rdt), jnp.zeros((), rdt), jnp.zeros((), rdt),
              full_ranks(n_sites, phys_dim, cap))
    state, _ = canonicalize(raw, max_bond=cap)
    return _with_log_norm(state, 0.0)


def _with_log_norm(mps: MPS, log_norm) -> MPS:
    return dataclasses.replace(mps, log_norm=jnp.asarray(log_norm, mps.log_norm.dtype))


def scale(mps: MPS, factor) -> MPS:
    """``factor * |mps>``: the modulus goes into ``log_norm``, the phase into site 0."""
    factor = jnp.asarray(factor)
    mag = jnp.abs(factor)
    phase = jnp.where(mag > 0, factor / jnp.where(mag > 0, mag, 1), 1).astype(mps.dtype)
    tensors = mps.tensors.at[0].multiply(phase)
    return dataclasses.replace(mps, tensors=tensors, log_norm=mps.log_norm + jnp.log(mag))
