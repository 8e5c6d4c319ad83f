"""Run a concrete gate program on the host, each bond at the dimension the state needs.

A fixed-shape MPS pays for its bond cap on every gate and an XLA program is compiled for
every cap, which is seconds before the first gate of a circuit that takes milliseconds to
run. A concrete program (a circuit, not a traced function of parameters) has nothing to
differentiate, so it runs here instead: a Python loop over the gates with numpy, every site
tensor trimmed to its live slots (like quimb's ``CircuitMPS``), the same inverse-free
Vidal-Hastings update as :func:`qtnet.tn.evolve.two_site_update`::

    theta = diag(s_i) . G . (B_i B_{i+1})   --SVD-->   U S Vh,   keep k values
    B_{i+1} <- Vh_k,   B_i <- G (B_i B_{i+1}) Vh_k^dagger / ||S_k||,   s_{i+1} <- S_k / ||S_k||

(in real arithmetic when the gates and the state are real: H, CZ, CNOT, SWAP, RY...), and
the same truncation: at most the input's bond cap, and no value of relative weight at or
below ``cutoff``. Values at the rounding-noise level (``qtnet.tn.svd``'s floor) are dropped
as exact zeros and, as in the traced update, are not counted in the fidelity estimate. The
result is the fixed-shape :class:`qtnet.tn.MPS` again, zero-padded to a power of two (a state
can start at bond cap 1 and grow to ``max_bond``: a 24-qubit circuit whose structural bound is
4096 allocates what its state needs, not 24 x 4096^2 x 2 amplitudes), with ``ranks`` the live
bond dimensions.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import scipy.linalg

from qtnet.tn.mps_pytree import MPS

NOISE_FLOOR = 10.0
"""Singular values below ``NOISE_FLOOR sqrt(columns) eps ||theta||`` are rounding noise
(the floor of :func:`qtnet.tn.svd.right_singular`)."""


def live_blocks(mps: MPS) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The state's site tensors and Schmidt vectors restricted to slots of nonzero weight.

    In canonical form a slot of zero Schmidt weight carries a zero left part, so removing it
    on every bond leaves the state and the right-orthonormality of the kept rows unchanged.
    """
    tensors, schmidt = np.asarray(mps.tensors), np.asarray(mps.schmidt)
    live = [np.flatnonzero(s > 0) for s in schmidt]
    blocks = [tensors[i][np.ix_(live[i], np.arange(tensors.shape[2]), live[i + 1])]
              for i in range(tensors.shape[0])]
    return blocks, [schmidt[b][live[b]] for b in range(len(live))]


def _svd_functions(dtype):
    """LAPACK's divide-and-conquer SVD (called directly: numpy's wrapper costs more than the
    decomposition of the small matrices a circuit meets) and the QR-iteration fallback."""
    return scipy.linalg.lapack.get_lapack_funcs(("gesdd", "gesvd"), dtype=dtype)


def real_if_real(dtype: np.dtype, *arrays: np.ndarray) -> np.dtype:
    """The real counterpart of a complex ``dtype`` if every array has zero imaginary part,
    else ``dtype`` (a circuit of H, CZ, CNOT, SWAP, RY... stays real from |0...0>)."""
    if not np.issubdtype(dtype, np.complexfloating):
        return dtype
    if any(np.any(a.imag) for a in arrays):
        return dtype
    return np.dtype(np.finfo(dtype).dtype)


def apply_program_adaptive(mps: MPS, sites, gates, final, *, cutoff: float,
                           max_bond: int | None = None) -> MPS:
    """``final`` after ``gates[k]`` on ``(sites[k], sites[k] + 1)``, on the host.

    Args:
      mps: a concrete state in canonical form.
      sites, gates, final: a concrete :class:`qtnet.tn.GateProgram`'s arrays.
      cutoff: relative Schmidt weight at or below which a value is dropped.
      max_bond: the most values any bond keeps (default: the state's bond cap).

    Returns:
      The state with bond cap the input's or, if larger, the smallest power of two that
      holds its largest bond (powers of two: circuits share compiled read-outs).
    """
    n, d = mps.n_sites, mps.phys_dim
    cap = mps.bond_cap if max_bond is None else int(max_bond)
    dtype = np.dtype(mps.dtype)
    blocks, lam = live_blocks(mps)
    gates = np.asarray(gates, dtype)
    work = real_if_real(dtype, gates, *blocks)
    if work != dtype:           # real gates on a real state: real LAPACK, ~3x less work
        gates, blocks = gates.real.copy(), [b.real.copy() for b in blocks]
    floor = (NOISE_FLOOR * float(np.finfo(work).eps)) ** 2        # relative weight, per column
    gesdd, gesvd = _svd_functions(work)
    log_fid = 0.0
    for i, g in zip(np.asarray(sites).tolist(), gates):
        b1, b2 = blocks[i], blocks[i + 1]
        a, m, c = b1.shape[0], b2.shape[0], b2.shape[2]
        pair = (b1.reshape(a * d, m) @ b2.reshape(m, d * c)).reshape(a, d * d, c)
        pair = np.matmul(g, pair).reshape(a * d, d * c)           # [(l o1), (o2 r)]
        theta = lam[i].repeat(d)[:, None] * pair
        _, s, vh, info = gesdd(theta, compute_uv=1, full_matrices=0)
        if info:                                                    # rare: no convergence
            _, s, vh, info = gesvd(theta, compute_uv=1, full_matrices=0)
            if info:
                raise np.linalg.LinAlgError(f"SVD of a {theta.shape} two-site centre failed")
        s2 = s * s
        s2 = s2[s2 > floor * d * c * s2.sum()]                      # noise -> exact zeros
        total = s2.sum()
        k = max(1, min(cap, int(np.count_nonzero(s2 > cutoff * total))))
        kept = s2[:k].sum()
        log_fid += math.log(kept / total)
        vk = vh[:k]                                                 # [k, (o2 r)]
        blocks[i + 1] = vk.reshape(k, d, c)
        blocks[i] = (pair @ vk.conj().T).reshape(a, d, k) / math.sqrt(kept)
        lam[i + 1] = np.sqrt(s2[:k] / kept)
    final = np.asarray(final, dtype)
    used = max(len(s) for s in lam)
    out = max(mps.bond_cap, min(cap, 1 << (used - 1).bit_length()))
    tensors = np.zeros((n, out, d, out), dtype)
    schmidt = np.zeros((n + 1, out), np.asarray(mps.schmidt).dtype)
    for i, b in enumerate(blocks):
        tensors[i, :b.shape[0], :, :b.shape[2]] = np.einsum("xp,apb->axb", final[i], b)
    for b, s in enumerate(lam):
        schmidt[b, :len(s)] = s
    ranks = np.asarray([len(s) for s in lam], np.int32)
    log_fid = np.asarray(mps.log_fidelity) + log_fid
    # device_put, not jnp.asarray: the latter compiles a small program per shape.
    tensors, schmidt, ranks, log_fid = jax.device_put((tensors, schmidt, ranks, log_fid))
    return dataclasses.replace(mps, tensors=tensors, schmidt=schmidt, ranks=ranks,
                               log_fidelity=log_fid)
