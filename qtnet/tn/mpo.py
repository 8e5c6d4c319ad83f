"""The MPO pytree and its builders: identity, dense matrices (TT-SVD), Pauli strings, sums.

Layout: ``tensors [n, D, d_out, d_in, D]`` with index order "l o i r", zero-padded to the
bond cap ``D``; open boundaries are index 0 of the padded bond, as for :class:`MPS`.
"""

from __future__ import annotations

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import checks
from qtnet.tn.gates import FIXED_1Q
from qtnet.tn.mps_pytree import default_dtype
from qtnet.tn.svd import svd
from qtnet.tn.shapes import DenseMatrix, MPOTensors, MatrixLike, SingleSiteLayer


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MPO:
    """A matrix product operator ``[n, D, d_out, d_in, D]`` (see the module docstring)."""

    tensors: MPOTensors

    @property
    def n_sites(self) -> int:
        return self.tensors.shape[-5]

    @property
    def bond_cap(self) -> int:
        return self.tensors.shape[-4]

    @property
    def phys_dim(self) -> int:
        return self.tensors.shape[-3]

    @property
    def dtype(self):
        return self.tensors.dtype

    def to_dense(self) -> DenseMatrix:
        return mpo_to_dense(self)

    def __repr__(self) -> str:
        return f"MPO(n_sites={self.n_sites}, phys_dim={self.phys_dim}, bond_cap={self.bond_cap})"


def mpo_from_local(ops: SingleSiteLayer, *, dtype=None) -> MPO:
    """Bond-1 MPO of a tensor product of local operators ``ops [n, d, d]``."""
    dtype = dtype or default_dtype()
    ops = jnp.asarray(ops, dtype)
    return MPO(ops[:, None, :, :, None])


def mpo_identity(n_sites: int, *, phys_dim: int = 2, dtype=None) -> MPO:
    return mpo_from_local(jnp.broadcast_to(jnp.eye(phys_dim), (n_sites, phys_dim, phys_dim)),
                          dtype=dtype)


def mpo_from_dense(matrix: MatrixLike, *, n_sites: int | None = None, phys_dim: int = 2,
                   max_bond: int | None = None, cutoff: float = 1e-14, dtype=None) -> MPO:
    """MPO of a dense ``[d^n, d^n]`` matrix by TT-SVD (truncated at ``max_bond``/``cutoff``)."""
    dtype = dtype or default_dtype()
    m = jnp.asarray(matrix, dtype)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"mpo_from_dense expects a square matrix, got shape {m.shape}")
    n = checks.sites_for_length(m.shape[0], phys_dim, n_sites)
    checks.require_finite(m, "mpo_from_dense input")
    d = phys_dim
    # [o_0..o_{n-1}, i_0..i_{n-1}] -> interleave to [(o_0 i_0), (o_1 i_1), ...]
    t = m.reshape((d,) * (2 * n)).transpose([k for j in range(n) for k in (j, n + j)])
    rest = t.reshape(1, -1)
    cores = []
    for _ in range(n - 1):
        left = rest.shape[0]
        u, s, vh = svd(rest.reshape(left * d * d, -1))
        mask = s > cutoff * s[0]
        keep = max(1, int(np.sum(np.asarray(mask)))) if not _is_traced(s) else s.shape[0]
        if max_bond is not None:
            keep = min(keep, int(max_bond))
        cores.append(u[:, :keep].reshape(left, d, d, keep))
        rest = s[:keep, None].astype(vh.dtype) * vh[:keep]
    cores.append(rest.reshape(rest.shape[0], d, d, 1))
    cap = max(max(c.shape[0], c.shape[-1]) for c in cores)
    return MPO(jnp.stack([_pad_core(c, cap) for c in cores]))


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _pad_core(c, cap):
    left, _, _, right = c.shape
    return jnp.pad(c, ((0, cap - left), (0, 0), (0, 0), (0, cap - right)))


def mpo_to_dense(mpo: MPO) -> DenseMatrix:
    """The ``[d^n, d^n]`` matrix of an MPO (site 0 most significant). For small ``n`` only."""
    n, cap, d, _, _ = mpo.tensors.shape
    if n > 13:
        raise ValueError(f"mpo_to_dense on {n} sites would need a {d}^{n} square matrix; limit 13")
    acc = mpo.tensors[0][0]                                   # [o, i, r]
    for k in range(1, n):
        acc = jnp.einsum("xyr,roib->xoyib", acc, mpo.tensors[k])
        acc = acc.reshape(d**(k + 1), d**(k + 1), cap)
    return acc[..., 0]


def mpo_sum(terms, coefficients=None) -> MPO:
    """``sum_k c_k M_k`` as one MPO with block-diagonal bonds (bond = sum of bonds)."""
    terms = list(terms)
    if not terms:
        raise ValueError("mpo_sum needs at least one term")
    n = terms[0].n_sites
    for t in terms:
        if t.n_sites != n or t.phys_dim != terms[0].phys_dim:
            raise ValueError(f"mpo_sum: terms act on different sites ({t!r} vs {terms[0]!r})")
    coefficients = [1.0] * len(terms) if coefficients is None else list(coefficients)
    if len(coefficients) != len(terms):
        raise ValueError(f"mpo_sum: {len(terms)} terms but {len(coefficients)} coefficients")
    dtype = jnp.result_type(*[t.dtype for t in terms])
    caps = [t.bond_cap for t in terms]
    total = sum(caps)
    d = terms[0].phys_dim
    out = jnp.zeros((n, total, d, d, total), dtype)
    off = 0
    for t, c, cap in zip(terms, coefficients, caps):
        block = t.tensors.astype(dtype)
        block = block.at[0].multiply(jnp.asarray(c, dtype))
        out = out.at[:, off:off + cap, :, :, off:off + cap].set(block)
        off += cap
    # Open boundaries: every term enters from the left on row 0 and leaves on column 0.
    offs = np.cumsum([0] + caps[:-1])
    first = sum(out[0, o] for o in offs)
    out = out.at[0].set(jnp.zeros_like(out[0]).at[0].set(first))
    last = sum(out[-1, :, :, :, o] for o in offs)       # after the first site (n = 1)
    out = out.at[-1].set(jnp.zeros_like(out[-1]).at[:, :, :, 0].set(last))
    return MPO(out)


_PAULI_TOKEN = re.compile(r"^([IXYZ])(\d+)$")


def parse_pauli_string(text: str, n_sites: int | None = None) -> dict[int, str]:
    """``"X0 Z5"`` -> ``{0: "X", 5: "Z"}``; ``""`` or ``"I"`` is the identity."""
    ops: dict[int, str] = {}
    for token in text.replace(",", " ").replace("*", " ").split():
        if token.upper() == "I":
            continue
        match = _PAULI_TOKEN.match(token.upper())
        if not match:
            raise ValueError(f"bad Pauli term {token!r} in {text!r}: use e.g. 'Z3' or 'X0 Z5'")
        site = int(match.group(2))
        if n_sites is not None and site >= n_sites:
            raise ValueError(f"Pauli term {token!r} acts on site {site}, "
                             f"but the state has {n_sites} sites (0..{n_sites - 1})")
        if site in ops:
            raise ValueError(f"Pauli string {text!r} names site {site} twice")
        if match.group(1) != "I":
            ops[site] = match.group(1)
    return ops


def pauli_terms(observable, n_sites: int):
    """Normalise an observable to ``(coefficients [K], local operators [K, n, 2, 2])``.

    ``observable`` is a Pauli string (``"Z3"``, ``"X0 Z5"``) or a list of
    ``(coefficient, string)`` pairs.
    """
    if isinstance(observable, str):
        observable = [(1.0, observable)]
    try:
        pairs = [(c, s) for c, s in observable]
    except (TypeError, ValueError):
        raise ValueError("an observable is a Pauli string like 'Z3' or a list of "
                         f"(coefficient, string) pairs; got {observable!r}") from None
    if not pairs:
        raise ValueError("the observable has no terms")
    coeffs, locals_ = [], []
    for c, s in pairs:
        if not isinstance(s, str):
            raise ValueError(f"Pauli term {s!r} is not a string")
        ops = parse_pauli_string(s, n_sites)
        locals_.append(np.stack([FIXED_1Q[ops.get(q, "I")] for q in range(n_sites)]))
        coeffs.append(c)
    return np.asarray(coeffs), np.stack(locals_).astype(complex)


def mpo_pauli(observable, n_sites: int, *, dtype=None) -> MPO:
    """MPO of a Pauli string or a sum of them (bond = number of terms)."""
    coeffs, ops = pauli_terms(observable, n_sites)
    return mpo_sum([mpo_from_local(o, dtype=dtype) for o in ops], coeffs)


def mpo_embed(mpo: MPO, start: int, n_sites: int) -> MPO:
    """``1 ⊗ mpo ⊗ 1``: ``mpo`` on sites ``start .. start + k - 1`` of ``n_sites``, identity
    elsewhere (identity cores carry the bond through index 0 of the padded bond)."""
    k, w, d = mpo.n_sites, mpo.bond_cap, mpo.phys_dim
    if start < 0 or start + k > n_sites:
        raise ValueError(f"an MPO on {k} sites does not fit at site {start} of {n_sites}")
    ident = jnp.zeros((w, d, d, w), mpo.dtype).at[0, :, :, 0].set(jnp.eye(d, dtype=mpo.dtype))
    left = jnp.broadcast_to(ident, (start, w, d, d, w))
    right = jnp.broadcast_to(ident, (n_sites - start - k, w, d, d, w))
    return MPO(jnp.concatenate([left, mpo.tensors, right]))
