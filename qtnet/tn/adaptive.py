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
as exact zeros and, as in the traced update, are not counted in the fidelity estimate.
Where the state is as large as a statevector, it becomes one: once a gate's two-site centre
costs more than ``DENSE_SWITCH_RATIO`` times the statevector's size to decompose (rows x
columns x min of the two), on at most ``DENSE_SWITCH_MAX_QUBITS`` qubits and with a bond
limit that cannot truncate (at least the Hilbert-space bound of the middle cut), the state
is contracted to its amplitudes, the remaining gates run on them
(:func:`qtnet.tn.dense_host.apply_program_host`), and one right-to-left SVD sweep factors
the result back into this canonical form, dropping values at or below ``cutoff`` there.
(MQT Bench's qaoa_16: every bond at 2^min(b, n - b); the per-gate SVDs of 256 x 256 centres
cost tens of times a gate on the 2^16 amplitudes.) The result is the fixed-shape
:class:`qtnet.tn.MPS` again, zero-padded to a power of two (a state
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

from qtnet.tn.dense_host import apply_program_host, real_if_real
from qtnet.tn.mps_pytree import MPS

DENSE_SWITCH_RATIO = 16.0
"""A centre whose SVD work (rows x columns x min) exceeds this many statevector sizes
switches the rest of the run to the statevector (see the module docstring)."""
DENSE_SWITCH_MAX_QUBITS = 20
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


def _svd(theta, gesdd, gesvd):
    """``(u, s, vh)`` of ``theta`` by divide and conquer, QR iteration if that fails."""
    u, s, vh, info = gesdd(theta, compute_uv=1, full_matrices=0)
    if info:                                                        # rare: no convergence
        u, s, vh, info = gesvd(theta, compute_uv=1, full_matrices=0)
        if info:
            raise np.linalg.LinAlgError(f"SVD of a {theta.shape} two-site centre failed")
    return u, s, vh


def _kept(s, cap: int, cutoff: float, floor: float):
    """``(s^2 above the noise floor, their kept weight, how many kept)``: at most ``cap``,
    none at or below ``cutoff`` of the total weight, at least one."""
    s2 = s * s
    s2 = s2[s2 > floor * s2.sum()]                                  # noise -> exact zeros
    k = max(1, min(cap, int(np.count_nonzero(s2 > cutoff * s2.sum()))))
    return s2, s2[:k].sum(), k


def _amplitudes(blocks, lam0) -> np.ndarray:
    """The statevector ``[d^n]`` of right-canonical blocks (site 0 the leading digit)."""
    psi = lam0[:, None] * blocks[0].reshape(len(lam0), -1)         # [1, (p r)]
    for b in blocks[1:]:
        psi = psi.reshape(-1, b.shape[0]) @ b.reshape(b.shape[0], -1)
    return psi.reshape(-1)


def _factor(psi, n: int, d: int, cap: int, cutoff: float, floor: float, gesdd, gesvd):
    """Right-canonical blocks and Schmidt vectors of ``psi [d^n]`` by one SVD sweep from the
    right, truncated as a gate's centre is; and the log of the weight kept."""
    blocks, lam, log_fid = [None] * n, [np.ones(1)] * (n + 1), 0.0
    rest, c = psi.reshape(-1, d), 1                                 # [(left), (p r)]
    for i in range(n - 1, 0, -1):
        u, s, vh = _svd(rest, gesdd, gesvd)
        s2, kept, k = _kept(s, cap, cutoff, floor * d * c)
        log_fid += math.log(kept / s2.sum())
        blocks[i] = vh[:k].reshape(k, d, c)
        lam[i] = np.sqrt(s2[:k] / kept)
        rest, c = (u[:, :k] * (s[:k] / math.sqrt(kept))).reshape(-1, d * k), k
    blocks[0] = rest.reshape(1, d, c)
    return blocks, lam, log_fid


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
    switch = (n <= DENSE_SWITCH_MAX_QUBITS and cap >= d ** (n // 2)
              and math.isfinite(DENSE_SWITCH_RATIO))
    limit = DENSE_SWITCH_RATIO * d ** n
    sites = np.asarray(sites).tolist()
    for done, (i, g) in enumerate(zip(sites, gates)):
        b1, b2 = blocks[i], blocks[i + 1]
        a, m, c = b1.shape[0], b2.shape[0], b2.shape[2]
        if switch and (a * d) * (d * c) * min(a * d, d * c) > limit:
            psi = apply_program_host(_amplitudes(blocks, lam[0]), sites[done:], gates[done:],
                                     np.broadcast_to(np.eye(d, dtype=gates.dtype), (n, d, d)),
                                     d)
            blocks, lam, dropped = _factor(psi, n, d, cap, cutoff, floor, gesdd, gesvd)
            log_fid += dropped
            break
        pair = (b1.reshape(a * d, m) @ b2.reshape(m, d * c)).reshape(a, d * d, c)
        pair = np.matmul(g, pair).reshape(a * d, d * c)           # [(l o1), (o2 r)]
        theta = lam[i].repeat(d)[:, None] * pair
        s, vh = _svd(theta, gesdd, gesvd)[1:]
        s2, kept, k = _kept(s, cap, cutoff, floor * d * c)
        log_fid += math.log(kept / s2.sum())
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
