"""Singular value decomposition with gradients that stay finite at degeneracies.

The textbook SVD derivative contains 1/(s_j^2 - s_i^2) and 1/s_i. Both blow up on the
states tensor networks meet every day: product states and padded bonds (many s_i = 0),
symmetric states (equal s_i). We replace them by Lorentzian-broadened versions,

    1/x  ->  x / (x^2 + eps),

with eps a small multiple of s_max^2 (set by the dtype's precision). Away from
degeneracies this changes the derivative by O(eps / gap^2); at exact degeneracies the
gauge-dependent terms vanish, which is the right answer for gauge-invariant losses.

The rule is written as a JVP, so both forward- and reverse-mode differentiation use it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.shapes import Matrices, SingularValues


def _broadening(dtype) -> float:
    """Relative broadening eps for a dtype: ~ machine-eps^(3/4)."""
    eps = np.finfo(jnp.finfo(dtype).dtype).eps
    return float(eps**0.75)


def _h(x):
    """Conjugate transpose of the last two axes."""
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def _safe_inv(x, eps):
    return x / (x * x + eps)


@jax.custom_jvp
def svd(a: Matrices) -> tuple[Matrices, SingularValues, Matrices]:
    """Reduced SVD ``a = u @ diag(s) @ vh`` with broadened, NaN-free derivatives.

    Args:
      a: ``[..., m, n]`` real or complex matrices.

    Returns:
      ``(u [..., m, k], s [..., k], vh [..., k, n])`` with ``k = min(m, n)``, ``s`` descending.
    """
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    return u, s, vh


@svd.defjvp
def _svd_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    u, s, vh = svd(a)
    v = _h(vh)
    real = s.dtype
    # Floor keeps eps a normal number even for an all-zero matrix (float32 included).
    smax2 = jnp.maximum(s[..., :1] ** 2, 1e-30)
    eps = _broadening(real) * smax2[..., None]            # [..., 1, 1]

    dp = _h(u) @ da @ v                                   # [..., k, k]
    ds = jnp.real(jnp.diagonal(dp, axis1=-2, axis2=-1))

    s_row = s[..., None, :]                               # s_j along columns
    s_col = s[..., :, None]                               # s_i along rows
    diff = s_row**2 - s_col**2                            # s_j^2 - s_i^2
    f = _safe_inv(diff, eps)                              # zero on the diagonal
    s_inv = _safe_inv(s, eps[..., 0])                     # [..., k]

    ctype = a.dtype
    dp_s = dp * s_row.astype(ctype)                       # dP diag(s)
    s_dp = s_col.astype(ctype) * dp                       # diag(s) dP
    du_core = f.astype(ctype) * (dp_s + _h(dp_s))
    dv_core = f.astype(ctype) * (s_dp + _h(s_dp))
    if jnp.iscomplexobj(a):
        # Phase gauge of each singular pair: i Im(dP_ii) / s_i, put on u alone.
        k = s.shape[-1]
        eye = jnp.eye(k, dtype=real)
        du_core = du_core + 0.5 * (dp - _h(dp)) * (eye * s_inv[..., None, :]).astype(ctype)
    du = u @ du_core
    dv = v @ dv_core

    m, n = a.shape[-2:]
    s_inv_c = s_inv[..., None, :].astype(ctype)
    if m > s.shape[-1]:
        dav = da @ v
        du = du + (dav - u @ (_h(u) @ dav)) * s_inv_c
    if n > s.shape[-1]:
        dahu = _h(da) @ u
        dv = dv + (dahu - v @ (_h(v) @ dahu)) * s_inv_c
    return (u, s, vh), (du, ds.astype(real), _h(dv))


def truncation_mask(s: SingularValues, keep: int, cutoff: float) -> jax.Array:
    """Boolean mask of the singular values kept by a bond cap and a relative cutoff.

    Keeps at most ``keep`` values (the leading ones) and drops every value whose weight
    ``s_k^2 / sum(s^2)`` is at or below ``cutoff``. ``s`` must be sorted descending.
    """
    idx = jnp.arange(s.shape[-1])
    mask = idx < keep
    if cutoff > 0.0:
        total = jnp.sum(s * s, axis=-1, keepdims=True)
        mask = mask & (s * s > cutoff * total)
    return mask


@jax.custom_jvp
def eigh_desc(h: Matrices) -> tuple[SingularValues, Matrices]:
    """Eigen-decomposition of a Hermitian matrix, eigenvalues descending, broadened JVP.

    Returns ``(w [..., k], v [..., k, k])`` with ``h = v @ diag(w) @ v^dagger``.
    """
    w, v = jnp.linalg.eigh(h)
    return w[..., ::-1], v[..., ::-1]


@eigh_desc.defjvp
def _eigh_desc_jvp(primals, tangents):
    (h,), (dh,) = primals, tangents
    w, v = eigh_desc(h)
    real = w.dtype
    scale = jnp.maximum(jnp.max(jnp.abs(w), axis=-1, keepdims=True), 1e-30)
    eps = _broadening(real) * scale[..., None] ** 2
    dp = _h(v) @ dh @ v
    dw = jnp.real(jnp.diagonal(dp, axis1=-2, axis2=-1))
    f = _safe_inv(w[..., None, :] - w[..., :, None], eps)        # 1/(w_j - w_i), 0 on diag
    dv = v @ (f.astype(dp.dtype) * dp)
    return (w, v), (dw.astype(real), dv)
