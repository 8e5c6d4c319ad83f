"""The ledger of the QCNN (``model.type: qcnn``): the classifier's contractions in one
forward pass over a batch of states, and the hand-off of each state to it.

The QCNN reads states someone else prepared (a lab's ground states): their owner, Alice,
hands each state to the classifier, Bob, as ``n`` qubits per copy, one copy per shot of the
read-out ``<Z_0>``; a classical Alice would send the dense vector, or the state's network
(the tree's or the MPS's numbers, ``classical_mps_bits``). Bob's work, per backend:

    tree   the pooling circuit contracted level by level
           (:func:`qtnet.tn.ttn.pooling.tree_pooling_expectation`), every einsum priced on
           opt_einsum's path, the one JAX takes (:func:`qtnet.comm.flops.einsum_flops`):
           step 1 level 0 (the pair gates, the density matrices of the pairs),
           step k + 1 level k (join two children into the parent's bond, the three gates of
           the level, the trace over the two dropped qubits), step L + 1 the final pooling
           and ``<Z_0>``;
    mps    the circuit's gate program (long-range gates routed by SWAPs): one two-site
           update per program gate at the states' padded bond cap (step 1), then the
           single-site layer and ``<Z_0>`` (step 2);
    dense  the same program, one ``[4, 4]`` gate on the ``2^n`` vector per program gate.
"""

from __future__ import annotations

import jax
import numpy as np

from qtnet.comm import flops as F
from qtnet.comm.deep_ledger import itemsize_of
from qtnet.comm.ledger import PHYS_DIM, Contraction, bond_profile, mps_numbers
from qtnet.tn.program import compile_program
from qtnet.tn.ttn.pooling import PoolingCircuit, pooling_gates

ALICE, BOB = "Alice", "Bob"
REGISTERS = ("chain",)
_LEVEL_GATE_PRODUCTS = 2 * 2 * 16**3     # a level's three embedded [16, 16] gates multiplied
_FINAL = 3 * 2 * 4**3 + 4                # U rho U^dag and Z_0 rho ([4, 4] each), the trace


def tree_numbers(level_shapes) -> int:
    """Numbers in a tree whose levels have node tensors of ``level_shapes [(m, a, a, b)]``."""
    return sum(int(np.prod(s)) for s in level_shapes)


def tree_pooling_ledger(level_shapes, *, batch: int, complex_: bool = True,
                        itemsize: int = 16) -> list[Contraction]:
    """Bob's contractions when the pooling circuit reads ``batch`` trees of node shapes
    ``level_shapes [(m_k, a_k, a_k, b_k)]`` (leaves to root)."""
    factor = F.COMPLEX_FACTOR if complex_ else 1
    m, a, _, b = level_shapes[0]
    work = (F.einsum_flops("xy,jyb->jxb", (4, 4), (m, 4, b))
            + F.einsum_flops("jsb,jtc->jstbc", (m, 4, b), (m, 4, b)))
    records = [_record(1, "pair_density", batch, batch * work * factor,
                       (m * 4 * b + m * 16 * b * b) * itemsize, a, b)]
    for k, (j, a, _, b) in enumerate(level_shapes[1:], start=1):
        rho = (j, 4, 4, a, a)
        join = F.einsum_flops("jxyB,jXYC,jstxX,juvyY->jsutvBC", (j, a, a, b), (j, a, a, b),
                              rho, rho, optimize="optimal")
        gates = F.einsum_flops("IJ,jJKBC,LK->jILBC", (16, 16), (j, 16, 16, b, b), (16, 16))
        trace = F.einsum_flops("jabcdebcfBC->jadefBC", (j,) + (2,) * 8 + (b, b))
        work = join + _LEVEL_GATE_PRODUCTS + gates + trace
        peak = (2 * j * 16 * a * a + 2 * j * a * a * b + 2 * j * 256 * b * b) * itemsize
        records.append(_record(k + 1, "pool_level", batch, batch * work * factor, peak, a, b))
    records.append(_record(len(level_shapes) + 1, "readout", batch, batch * _FINAL * factor,
                           16 * itemsize, 1, 1))
    return records


def _mps_gate(n: int, chi: int) -> tuple[str, int, int, int, int]:
    """(kind, FLOPs, peak elements, bond in, bond out) of one program gate on an MPS."""
    d = PHYS_DIM
    update = F.two_site_contraction(chi, d) + F.two_site_decomposition(chi, d)
    return "two_site_update", update, n * chi * chi * d + 3 * (chi * d) ** 2, chi, chi


def _mps_readout(n: int, chi: int) -> tuple[int, int]:
    d = PHYS_DIM
    return F.mps_single_site_layer(n, chi, d) + F.expectation_term(n, chi, d), 2 * n * chi * chi * d


def _dense_gate(n: int, chi) -> tuple[str, int, int, None, None]:
    size = PHYS_DIM**n
    return "gate", F.gate_on_vector(2, size, PHYS_DIM), 2 * size, None, None


def _dense_readout(n: int, chi) -> tuple[int, int]:
    size = PHYS_DIM**n
    return n * F.gate_on_vector(1, size, PHYS_DIM) + 4 * size, 2 * size


PROGRAM_COSTS = {"mps": (_mps_gate, _mps_readout), "dense": (_dense_gate, _dense_readout)}
"""Per backend that runs the circuit as a gate program: the cost of one gate, and of the
single-site layer and read-out after the last."""


def program_ledger(backend: str, *, n_sites: int, n_gates: int, batch: int,
                   max_bond: int | None = None, complex_: bool = True,
                   itemsize: int = 16) -> list[Contraction]:
    """Bob's contractions when the circuit runs as a program of ``n_gates`` two-site gates
    on ``batch`` states of ``n_sites`` sites (an MPS of padded cap ``max_bond``, or a dense
    vector)."""
    if backend not in PROGRAM_COSTS:
        raise ValueError(f"no QCNN cost model for backend {backend!r}; modelled: tree, "
                         f"{', '.join(PROGRAM_COSTS)}")
    factor = F.COMPLEX_FACTOR if complex_ else 1
    gate, readout = PROGRAM_COSTS[backend]
    kind, per_gate, peak, bond_in, bond_out = gate(n_sites, max_bond)
    read, read_peak = readout(n_sites, max_bond)
    count = batch * n_gates
    return [_record(1, kind, count, count * per_gate * factor, peak * itemsize, bond_in,
                    bond_out),
            _record(2, "readout", batch, batch * read * factor, read_peak * itemsize,
                    bond_out, 1 if bond_out else None)]


def pooling_program_gates(circuit: PoolingCircuit, n_sites: int, dtype) -> int:
    """Two-site gates of the pooling circuit's program when its gates are traced (as in a
    training step: routed, and nothing fused away by its value)."""
    count = []

    def trace(c):
        count.append(len(compile_program(pooling_gates(c, n_sites), n_sites, dtype=dtype).sites))
        return 0.0

    jax.eval_shape(trace, circuit)
    return count[0]


def qcnn_ledger(states, circuit: PoolingCircuit, *, backend: str, batch: int,
                bits: int = 32) -> tuple[list[Contraction], dict]:
    """The QCNN's forward pass over ``batch`` of ``states`` (a stacked batch on
    ``backend``): Bob's contractions and Alice's hand-off."""
    complex_, itemsize = itemsize_of(states.dtype)
    n = int(states.n_sites)
    if backend == "tree":
        shapes = [tuple(t.shape[1:]) for t in states.levels]
        bond = max(s[-1] for s in shapes)
        return (tree_pooling_ledger(shapes, batch=batch, complex_=complex_, itemsize=itemsize),
                qcnn_handoff(n_sites=n, network_numbers=tree_numbers(shapes), max_bond=bond,
                             bits=bits))
    gates = pooling_program_gates(circuit, n, states.dtype)
    bond = getattr(states, "bond_cap", 0) or None          # 0 on a statevector: no cap
    records = program_ledger(backend, n_sites=n, n_gates=gates, batch=batch, max_bond=bond,
                             complex_=complex_, itemsize=itemsize)
    numbers = mps_numbers(bond_profile(n, bond))
    return records, qcnn_handoff(n_sites=n, network_numbers=numbers,
                                 max_bond=bond or PHYS_DIM ** (n // 2), bits=bits)


def qcnn_handoff(*, n_sites: int, network_numbers: int, max_bond: int, bits: int = 32) -> dict:
    """Alice -> Bob: each state as ``n`` qubits, one copy per read-out shot; classically the
    dense vector, or the state's network (``network_numbers`` numbers)."""
    return {"from": ALICE, "to": BOB, "registers": list(REGISTERS), "qubits_per_copy": n_sites,
            "copies_per_readout": 1, "quantum_qubits": n_sites,
            "classical_bits": PHYS_DIM**n_sites * bits,
            "classical_mps_bits": network_numbers * bits, "mps_max_bond": int(max_bond)}


def _record(step, kind, count, flops, nbytes, bond_in, bond_out) -> Contraction:
    return Contraction(step, BOB, kind, REGISTERS, int(count), int(flops), int(nbytes),
                       bond_in, bond_out)
