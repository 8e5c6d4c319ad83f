"""Singular value decomposition with gradients that stay finite at degeneracies.

The textbook SVD derivative contains 1/(s_j^2 - s_i^2) and 1/s_i. Both blow up on the
states tensor networks meet every day: product states and padded bonds (many s_i = 0),
symmetric states (equal s_i). We split 1/(s_j^2 - s_i^2) into 1/(s_j - s_i) and
1/(s_j + s_i) (see :func:`_svd_jvp`) and replace each 1/x by the quartic-broadened

    1/x  ->  x^3 / (x^4 + w^4),    w = machine-eps^(3/4) * s_max,

exact to (w/x)^4 above the width (float64: any gap or value above ~2e-12 s_max), falling
as x^3 below it, so a degeneracy that rounding has split by ~eps s_max (or a zero singular
value that rounding has made ~eps s_max) adds ~eps^3/w^4, not the 1/x that would turn
rounding into gradient noise. At exact degeneracies the gauge-dependent terms vanish, which
is the right answer for gauge-invariant losses.

The rule is written as a JVP, so both forward- and reverse-mode differentiation use it.
"""

from __future__ import annotations

import functools

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


def _inv_quartic(x, width):
    """``1/x`` broadened to ``x^3 / (x^4 + width^4)``: exact above the width, 0 at 0."""
    x2 = x * x
    return x * x2 / (x2 * x2 + width**4)


@svd.defjvp
def _svd_jvp(primals, tangents):
    """With ``dP = U^dagger da V``, ``H = (dP + dP^dagger)/2``, ``K = (dP - dP^dagger)/2``::

        U^dagger dU = H_ij / (s_j - s_i) + K_ij / (s_i + s_j)      (i != j)
        V^dagger dV = H_ij / (s_j - s_i) - K_ij / (s_i + s_j)
        ds_i = Re dP_ii

    (the textbook ``(dP S + S dP^dagger)_ij / (s_j^2 - s_i^2)``, factored), plus the parts
    of ``da`` outside the reduced ``U`` / ``V`` over ``s``, and for complex input the phase
    ``K_ii / s_i`` on ``U``. Every ``1/x`` is :func:`_inv_quartic` broadened. The diagonal
    is masked, never computed as ``s_i - s_i``.
    """
    (a,), (da,) = primals, tangents
    u, s, vh = svd(a)
    v = _h(vh)
    real = s.dtype
    ctype = a.dtype
    k = s.shape[-1]
    # Floor keeps the width a normal number even for an all-zero matrix.
    smax = jnp.maximum(s[..., :1], 1e-30)[..., None]                 # [..., 1, 1]
    width = float(np.finfo(real).eps) ** 0.75 * smax

    dp = _h(u) @ da @ v                                               # [..., k, k]
    ds = jnp.real(jnp.diagonal(dp, axis1=-2, axis2=-1))
    herm = 0.5 * (dp + _h(dp))
    anti = 0.5 * (dp - _h(dp))
    s_i, s_j = s[..., :, None], s[..., None, :]
    off = ~jnp.eye(k, dtype=bool)
    f_gap = jnp.where(off, _inv_quartic(s_j - s_i, width), 0.0).astype(ctype)
    f_sum = jnp.where(off, _inv_quartic(s_i + s_j, width), 0.0).astype(ctype)
    s_inv = _inv_quartic(s, width[..., 0])                            # [..., k]
    du_core = f_gap * herm + f_sum * anti
    dv_core = f_gap * herm - f_sum * anti
    if jnp.iscomplexobj(a):
        # Phase gauge of each singular pair: i Im(dP_ii) / s_i, put on u alone.
        eye = jnp.eye(k, dtype=real)
        du_core = du_core + anti * (eye * s_inv[..., None, :]).astype(ctype)
    du = u @ du_core
    dv = v @ dv_core

    m, n = a.shape[-2:]
    s_inv_c = s_inv[..., None, :].astype(ctype)
    if m > k:
        dav = da @ v
        du = du + (dav - u @ (_h(u) @ dav)) * s_inv_c
    if n > k:
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


def _svd_batched(a):
    _, s, vh = jnp.linalg.svd(a, full_matrices=False)
    return s, vh


def _qr_batched(y):
    return jnp.linalg.qr(y)


def _per_matrix(solver, signature: str):
    """``solver`` with one LAPACK call per matrix on CPU, also under vmap (a loop over the
    batch). Host devices (qtnet.tn.sharded) hang in a batched call: it splits its batch into
    tasks on the intra-op pool that their programs already occupy. Other platforms keep the
    batched solver."""
    loop = jnp.vectorize(jax.custom_batching.sequential_vmap(solver), signature=signature)
    return lambda x: jax.lax.platform_dependent(x, cpu=loop, default=solver)


_svd_per_matrix = _per_matrix(_svd_batched, "(m,n)->(k),(k,n)")
_qr_per_matrix = _per_matrix(_qr_batched, "(m,n)->(m,k),(k,n)")


def _noise_floor(dtype, n: int) -> float:
    """Singular values below this fraction of ||a||_F are rounding noise for an n-column a."""
    return float(10.0 * np.sqrt(n) * np.finfo(jnp.finfo(dtype).dtype).eps)


def _null_space_completion(per_matrix: bool):
    """``complete(v, nz, favoured, needs)``: where ``needs``, ``v``'s null columns (``~nz``)
    replaced by the ordered basis of :func:`right_singular`; elsewhere ``v`` unchanged.

    The QR that orders the null space runs only if some matrix needs it: a ``lax.cond`` on
    the whole stack, also under ``vmap`` (a custom batching rule), where a per-matrix cond
    would become a select that always runs the QR."""
    qr = _qr_per_matrix if per_matrix else _qr_batched

    def order(v, nz, favoured):
        # Null columns of v are an arbitrary basis of the null space. Replace them by fixed
        # generic vectors of the favoured slots. The nonzero columns come first (s
        # descending), and Householder QR orthogonalises each column against all earlier
        # ones, so no projection off the nonzero vectors is needed: the first new columns
        # span the favoured null space, the rest complete the basis. The nonzero columns
        # are kept as the SVD gave them (QR returns them up to a phase and rounding).
        n = v.shape[-1]
        gen = np.random.default_rng(0).normal(size=(2, n, n))
        gen = gen[0] + 1j * gen[1] if jnp.iscomplexobj(v) else gen[0]
        fav = favoured[..., :, None].astype(v.dtype) * jnp.asarray(gen, v.dtype)
        q, _ = qr(jnp.where(nz[..., None, :], v, fav))
        return jnp.where(nz[..., None, :], v, q)

    def keep(v, nz, favoured):
        return v

    def decide(v, nz, favoured, needs):
        return jax.lax.cond(jnp.any(needs), order, keep, v, nz, favoured)

    complete = jax.custom_batching.custom_vmap(decide)

    @complete.def_vmap
    def _complete_batched(axis_size, in_batched, v, nz, favoured, needs):
        v, nz, favoured, needs = (
            x if batched else jnp.broadcast_to(x, (axis_size,) + x.shape)
            for x, batched in zip((v, nz, favoured, needs), in_batched))
        # `decide`, not `complete`: under a second vmap (or jacfwd) that recursed. An outer
        # vmap batches this predicate, and its cond becomes a select: the QR always runs there.
        return decide(v, nz, favoured, needs), True

    return complete


_complete_null_space = {flag: _null_space_completion(flag) for flag in (False, True)}


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def right_singular(a: Matrices, favoured: jax.Array, per_matrix: bool = False,
                   order_below: jax.Array | None = None) -> tuple[SingularValues, Matrices]:
    """Right singular vectors of ``a [..., m, n]``, with the null space ordered.

    Args:
      a: matrices (``m >= n``) whose columns outside ``favoured`` are zero.
      favoured: ``[..., n]`` 0/1 mask of the columns (right slots) that may carry weight.
      per_matrix: on CPU, one LAPACK call per matrix also under ``vmap`` (for host devices,
        which hang in a batched call); the same numbers as the batched call.
      order_below: ``[...]`` the null space is ordered only where the rank is below this and
        below the number of favoured columns; elsewhere ``v``'s null columns are any
        completion. A caller passes the smaller of its bond cap (no null vector is kept
        beyond it) and the number of rows that may carry weight, now or to first order (see
        below). ``None``: always ordered.

    Returns:
      ``(s [..., n], v [..., n, n])``: ``a = sum_k s_k u_k v_k^dagger``, ``v`` unitary, ordered
      as nonzero singular values (descending), then the null vectors inside ``favoured``, then
      those outside (where ``order_below`` asks for no order, the null columns are the SVD's
      own). Values at the rounding-noise level are returned as exact zeros.

    No Gram matrix is formed (its eigendecomposition would square the condition number):
    one SVD of ``a`` gives the nonzero part; the null space is then rebuilt from fixed
    generic vectors of the favoured slots, placed after the nonzero singular vectors, and
    one QR completes the basis. The first of those vectors span the favoured null space, so
    they sort before the slots outside ``favoured``.

    The order matters only where the rank is below the number of rows that may carry weight,
    now or to first order: the left singular vectors then miss some of those rows, and the
    derivative that lets the rank grow lives in the favoured null vectors a caller keeps. At
    full rank on those rows the derivative of the nonzero vectors already holds it (their
    rotation into the null space is basis-free), at full rank on the favoured columns the
    null space lies outside them, and at a rank of the bond cap or more no null vector is
    kept; the caller then keeps no null vector, and the QR is skipped unless some matrix of
    the stack needs it.
    """
    real = jnp.finfo(a.dtype).dtype
    n = a.shape[-1]
    norm = jnp.sqrt(jnp.sum(jnp.abs(a) ** 2, axis=(-2, -1), keepdims=True))   # [..., 1, 1]
    s, vh = (_svd_per_matrix if per_matrix else _svd_batched)(a)
    nz = s > _noise_floor(real, n) * norm[..., 0]
    needs = jnp.ones(s.shape[:-1], bool)
    if order_below is not None:
        rank = jnp.sum(nz, axis=-1)
        needs = (rank < order_below) & (rank < jnp.sum(favoured > 0, axis=-1))
    v = _complete_null_space[per_matrix](_h(vh), nz, favoured, needs)
    return jnp.where(nz, s, 0.0), v


@right_singular.defjvp
def _right_singular_jvp(per_matrix, primals, tangents):
    """``V^dagger dV`` from ``dP = U^dagger da V`` without squared gaps::

        (V^dagger dV)_ij = H_ij / (s_j - s_i) - K_ij / (s_i + s_j),
        H = (dP + dP^dagger) / 2,   K = (dP - dP^dagger) / 2,

    Only ``1/(s_j - s_i)`` between two nonzero values is broadened, to
    ``x^3 / (x^4 + w^4)`` with ``w = machine-eps^(3/4) s_max`` (on the gap itself, not on the
    gap of the squares). The quartic form is exact to ``(w/x)^4`` above the width (a gap of
    ``1e-4 s_max`` is blurred by 2e-5 in single precision) and falls as ``x^3`` below it, so
    a degeneracy that rounding has split by ``~eps s_max`` contributes ``~eps^3/w^4``, not
    the ``1/x`` that would turn rounding into gradient noise. ``1/(s_i + s_j)`` needs no
    broadening. A nonzero value against a zero one gives the exact ``-dP_ij / s_i`` (the
    derivative that lets a bond's rank grow); two zeros give 0 (gauge, or structurally zero).
    """
    (a, favoured, order_below), (da, _, _) = primals, tangents
    s, v = right_singular(a, favoured, per_matrix, order_below)
    real = s.dtype
    nz = s > 0
    s_safe = jnp.where(nz, s, 1.0)
    u = (a @ v) * (nz / s_safe)[..., None, :].astype(a.dtype)           # zero where s = 0
    dp = _h(u) @ da @ v                                                  # [..., n, n]
    ds = jnp.where(nz, jnp.real(jnp.diagonal(dp, axis1=-2, axis2=-1)), 0.0)
    herm = 0.5 * (dp + _h(dp))
    anti = 0.5 * (dp - _h(dp))
    s_i, s_j = s[..., :, None], s[..., None, :]
    nz_i, nz_j = nz[..., :, None], nz[..., None, :]
    both = nz_i & nz_j
    smax = jnp.where(nz[..., :1], s[..., :1], 1.0)[..., None]          # [..., 1, 1]
    diff = s_j - s_i
    x = diff / smax                                                   # scale-free gap
    w4 = float(np.finfo(real).eps) ** 3                               # width eps^(3/4) s_max
    off = ~jnp.eye(s.shape[-1], dtype=bool)
    f_diff = jnp.where(both, x ** 3 / (x ** 4 + w4) / smax,
                       jnp.where(nz_i | nz_j, 1.0 / jnp.where(both | ~(nz_i | nz_j), 1.0, diff),
                                 0.0)) * off
    summ = s_i + s_j
    f_sum = jnp.where(nz_i | nz_j, 1.0 / jnp.where(nz_i | nz_j, summ, 1.0), 0.0) * off
    omega = f_diff.astype(a.dtype) * herm - f_sum.astype(a.dtype) * anti
    return (s, v), (ds.astype(real), v @ omega)
