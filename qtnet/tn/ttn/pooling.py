"""The hierarchical pooling circuit (a QCNN) on ``n = 2^L`` qubits, on any backend.

Level 0 runs ``pair`` on every ``(2j, 2j + 1)``. A level-k node (k >= 1) joins two blocks of
``2^k`` sites; each block hands up its two edge qubits ``(lL, lR)`` and ``(rL, rR)``::

      lL ... lR | rL ... rR        cross on (lR, rL)      the convolution across the blocks
      |       \\   /      |        pool_left  (control lR, target lL)   controlled rotations:
      |      [cross]      |        pool_right (control rL, target rR)   lR and rL are dropped
      lL <-pool-  -pool-> rR       survivors: the new block's edges (lL, rR)

so each level halves the qubits (n -> n/2 -> ... -> 2), and ``final`` (control n-1,
target 0) pools the last two into site 0, whose ``<Z>`` is the read-out. Dropped qubits are
never touched again, so the read-out is ``<psi| C^dag Z_0 C |psi>`` of the unitary circuit C.

* any backend: C as a compiled gate program (long-range gates routed), then ``<Z_0>``;
* a tree: the dropped qubits are traced out as soon as they are dropped, so every node
  carries only the density matrix of its two survivors and its parent bond,
  ``rho [4, 4, b, b]`` ("ket bra bond-ket bond-bra"): exact, O(n b^5) and no statevector.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from qtnet.tn.program import compile_program
from qtnet.tn.shapes import RealScalar, TwoQubitGates
from qtnet.tn.ttn.network import TTN, check_leaves


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class PoolingCircuit:
    """The gates of every level; a two-qubit gate's first qubit is its more significant one
    (a controlled gate's control)."""

    pair: TwoQubitGates          # [4, 4] level 0, on (2j, 2j + 1)
    cross: TwoQubitGates         # [L - 1, 4, 4] level k on (lR, rL)
    pool_left: TwoQubitGates     # [L - 1, 4, 4] level k on (lR -> lL)
    pool_right: TwoQubitGates    # [L - 1, 4, 4] level k on (rL -> rR)
    final: TwoQubitGates         # [4, 4] on (n - 1 -> 0)


def check_pooling(n_qubits: int, levels: int) -> None:
    """A clear error for a circuit whose pooling does not end on one qubit.

    Raises:
      ValueError: ``n_qubits`` is not a power of two, or ``levels`` poolings of it stop short
        of one qubit or go past it.
    """
    if n_qubits < 2:
        raise ValueError(f"pooling {n_qubits} qubit(s) would go past one qubit: a pooling "
                         f"circuit needs at least 2 qubits")
    total = check_leaves(n_qubits)
    if levels > total:
        raise ValueError(f"{levels} pooling layers halve {n_qubits} qubits past one qubit "
                         f"(log2 {n_qubits} = {total} layers end on one)")
    if levels < total:
        raise ValueError(f"{levels} pooling layers leave {n_qubits >> levels} of "
                         f"{n_qubits} qubits: the read-out is one qubit, use {total}")


def _levels(circuit: PoolingCircuit) -> int:
    return circuit.cross.shape[0] + 1


def pooling_gates(circuit: PoolingCircuit, n_qubits: int):
    """``[(matrix, (site, site)), ...]`` of the circuit on ``n_qubits`` sites, in order."""
    check_pooling(n_qubits, _levels(circuit))
    ops = [(circuit.pair, (2 * j, 2 * j + 1)) for j in range(n_qubits // 2)]
    for k in range(1, _levels(circuit)):
        w = 2 ** k
        for start in range(0, n_qubits, 2 * w):
            ll, lr, rl, rr = start, start + w - 1, start + w, start + 2 * w - 1
            ops += [(circuit.cross[k - 1], (lr, rl)), (circuit.pool_left[k - 1], (lr, ll)),
                    (circuit.pool_right[k - 1], (rl, rr))]
    return ops + [(circuit.final, (n_qubits - 1, 0))]


def pooling_expectation(backend, state, circuit: PoolingCircuit) -> RealScalar:
    """``<Z_0>`` after the circuit: on a tree by the traced-out contraction, on any other
    backend by running the gate program (an MPS needs the bond cap the program grows to)."""
    if isinstance(state, TTN):
        return tree_pooling_expectation(state, circuit)
    n = state.n_sites
    program = compile_program(pooling_gates(circuit, n), n, dtype=state.dtype)
    out = backend.apply_program(state, program)
    return backend.expectation_pauli(out, "Z0")


def _embed(gate, qubits: tuple[int, int], n_qubits: int):
    """``gate`` on ``qubits`` of an ``n_qubits`` register, as a full matrix (qubit 0 first)."""
    size = 2 ** n_qubits
    eye = jnp.eye(size, dtype=gate.dtype).reshape((2,) * n_qubits + (size,))
    out = jnp.tensordot(gate.reshape(2, 2, 2, 2), eye, axes=((2, 3), qubits))
    return jnp.moveaxis(out, (0, 1), qubits).reshape(size, size)


def tree_pooling_expectation(tree: TTN, circuit: PoolingCircuit) -> RealScalar:
    """``<Z_0>`` after the circuit, contracted on the tree (exact for the tree's state)."""
    check_pooling(tree.n_sites, _levels(circuit))
    dtype = jnp.result_type(tree.dtype, circuit.pair.dtype)
    c = jax.tree.map(lambda g: jnp.asarray(g).astype(dtype), circuit)
    t0 = tree.levels[0].astype(dtype)
    m, b = t0.shape[0], t0.shape[-1]
    ket = jnp.einsum("xy,jyb->jxb", c.pair, t0.reshape(m, 4, b))      # "node (l r) p"
    rho = jnp.einsum("jsb,jtc->jstbc", ket, ket.conj())               # "ket bra p p*"
    for k, t in enumerate(tree.levels[1:]):
        t = t.astype(dtype)
        gate = (_embed(c.pool_left[k], (1, 0), 4) @ _embed(c.pool_right[k], (2, 3), 4)
                @ _embed(c.cross[k], (1, 2), 4))                       # on (lL, lR, rL, rR)
        joined = jnp.einsum("jxyB,jXYC,jstxX,juvyY->jsutvBC", t, t.conj(), rho[0::2],
                            rho[1::2], optimize="optimal")
        j, bb = joined.shape[0], joined.shape[-1]
        joined = joined.reshape(j, 16, 16, bb, bb)
        joined = jnp.einsum("IJ,jJKBC,LK->jILBC", gate, joined, gate.conj())
        joined = joined.reshape(j, 2, 2, 2, 2, 2, 2, 2, 2, bb, bb)
        rho = jnp.einsum("jabcdebcfBC->jadefBC", joined).reshape(j, 4, 4, bb, bb)
    rho = rho[0, :, :, 0, 0]                                          # sites (0, n - 1)
    final = _embed(c.final, (1, 0), 2)
    rho = final @ rho @ final.conj().T
    z0 = jnp.kron(jnp.diag(jnp.asarray([1.0, -1.0], dtype)), jnp.eye(2, dtype=dtype))
    return jnp.real(jnp.trace(z0 @ rho) / jnp.trace(rho))
