"""Run a concrete gate program on a statevector on the host, and read it out, with numpy.

The compiled dense path (:func:`qtnet.tn.dense.apply_two_site_sequence`, a ``lax.scan`` with
a switch over positions) costs an XLA compile of 1.5-5 s per qubit count before its first
gate, and its run is no faster per gate than numpy's (MQT Bench, loaded 2-core machine:
qft_16 24 ns per amplitude and gate in the compiled scan, ~7 ns here). A concrete program (a
circuit, not a traced function of parameters) therefore runs here, in real arithmetic when
the gates and the state are real.
"""

from __future__ import annotations

import numpy as np



def real_if_real(dtype: np.dtype, *arrays: np.ndarray) -> np.dtype:
    """The real counterpart of a complex ``dtype`` if every array has zero imaginary part,
    else ``dtype`` (a circuit of H, CZ, CNOT, SWAP, RY... stays real from |0...0>)."""
    if not np.issubdtype(dtype, np.complexfloating):
        return dtype
    if any(np.any(a.imag) for a in arrays):
        return dtype
    return np.dtype(np.finfo(dtype).dtype)


def apply_program_host(psi: np.ndarray, sites, gates, final, d: int = 2) -> np.ndarray:
    """``final`` after ``gates[k]`` on sites ``(sites[k], sites[k] + 1)`` of ``psi [d^n]``
    (site 0 the most significant digit); the new vector, in the type of the three."""
    n = round(np.log(psi.size) / np.log(d))
    gates, final = np.asarray(gates), np.asarray(final)
    dtype = np.result_type(psi.dtype, gates.dtype, final.dtype)
    work = real_if_real(dtype, psi, gates)
    vec, gates = psi.astype(dtype), gates.astype(dtype)
    if work != dtype:           # real gates on a real state: half the arithmetic
        vec, gates = vec.real.copy(), gates.real.copy()
    for i, g in zip(np.asarray(sites).tolist(), gates):
        vec = _apply_block(vec, g, d ** i, d ** (n - i - 2))
    vec = vec.astype(dtype)
    eye = np.eye(d)
    for q in range(n):
        if not np.array_equal(final[q], eye):
            vec = _apply_block(vec, final[q].astype(dtype), d ** q, d ** (n - q - 1))
    return vec


def _apply_block(vec: np.ndarray, gate: np.ndarray, left: int, right: int) -> np.ndarray:
    """``gate [m, m]`` on the middle axis of ``vec`` seen as ``[left, m, right]``."""
    m = gate.shape[0]
    block = vec.reshape(left, m, right)
    if right == 1:                                   # "l m" @ gate^T: one GEMM
        return (block[:, :, 0] @ gate.T).reshape(-1)
    return np.matmul(gate, block).reshape(-1)        # [l, m, r]


def expectation_local_host(psi: np.ndarray, local_ops, d: int = 2) -> np.ndarray:
    """``<psi| (x)_q ops[q] |psi> / <psi|psi>`` for each ``[n, d, d]`` product in
    ``local_ops [..., n, d, d]``; identity factors are skipped."""
    n = round(np.log(psi.size) / np.log(d))
    ops = np.asarray(local_ops)
    flat = ops.reshape((-1,) + ops.shape[-3:])
    dtype = np.result_type(psi.dtype, ops.dtype)
    eye = np.eye(d)
    values = np.empty(len(flat), dtype)
    for k, term in enumerate(flat):
        t = psi.astype(dtype)
        for q in range(n):
            if not np.array_equal(term[q], eye):
                t = _apply_block(t, term[q].astype(dtype), d ** q, d ** (n - q - 1))
        values[k] = np.vdot(psi, t)
    return values.reshape(ops.shape[:-3]) / np.vdot(psi, psi).real
