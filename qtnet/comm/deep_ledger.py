"""The ledger of the deep polynomial SIGN circuit (``model.type: deep_sign``): every party's
contractions in one forward pass over a batch, and the hand-off of Alice's hop state to Bob.

The circuit is not a :class:`~qtnet.parties.protocol.Protocol` (its layers are linear
combinations ``c0 + c1 φ + c2 φ ⊙ φ``, which a protocol's steps do not express), so its work is
priced here from the same formulas (:mod:`qtnet.comm.flops`) and the same record type
(:class:`~qtnet.comm.ledger.Contraction`) as a protocol's, following
:func:`qtnet.gnn.deep.forward_state` operation by operation on the MPS backend:

    step 0        Alice  the hop state Φ = Σ_k |k> T^k |X>: ``hops`` controlled-T MPO
                         applications, each compressed (built once per run, not per step)
    step l = 1..L Bob    W_l applied (an MPO of bond ``weight_bond`` on every site, padded),
                         compressed; φ ⊙ φ by the zip-up sweep, compressed; the two additions
                         (bond 2χ each), compressed
    step L + 1    Bob    W_out applied, compressed
    step L + 2    Bob    the read-out: one overlap with a product basis state per (node, class)

Alice hands Φ to Bob once per copy; a forward read-out consumes ``2^L`` copies (every layer's
Hadamard product takes two). Its classical competitors are the dense vector and Φ sent as an
MPS of the student's bond (``classical_mps_bits``), which for a low-bond state is
polylogarithmic in the number of nodes too: the report says so rather than claim an advantage.
"""

from __future__ import annotations

import numpy as np

from qtnet.comm import flops as F
from qtnet.comm.ledger import PHYS_DIM, Contraction, bond_profile, mps_numbers

ALICE, BOB = "Alice", "Bob"
REGISTERS = ("node", "hop", "feat")


def _compression(step, party, n, bond, chi, itemsize, factor):
    count, cost = F.canonicalize_flops(n, bond, chi, PHYS_DIM)
    elements = 2 * n * bond * bond * PHYS_DIM + 3 * bond * PHYS_DIM * bond
    return Contraction(step, party, "compression", REGISTERS, count, cost * factor,
                       elements * itemsize, bond, chi)


def _mpo(step, party, n, w, chi, itemsize, factor, registers=REGISTERS):
    d = PHYS_DIM
    elements = n * chi * chi * d + n * w * w * d * d + n * (w * chi) ** 2 * d
    return [Contraction(step, party, "mpo_application", registers, n,
                        F.mpo_mps_contraction(n, w, chi, d) * factor, elements * itemsize,
                        chi, w * chi),
            _compression(step, party, n, w * chi, chi, itemsize, factor)]


def deep_sign_ledger(*, n_sites: int, layers: int, weight_bond: int, max_bond: int,
                     batch: int, n_classes: int, hops: int = 0, propagation_bond: int = 1,
                     complex_: bool = False, itemsize: int = 8) -> list[Contraction]:
    """Every party's contractions in one forward pass of the deep circuit over ``batch``
    nodes (reverse mode adds a few times this, not counted), plus Alice's one-off hop state.

    Args:
      n_sites: qubits of ``node | hop | feat``.
      layers, weight_bond: the model's L and the bond of its MPO cores.
      max_bond: the MPS bond cap χ of every intermediate state.
      batch, n_classes: nodes read per step, classes read per node.
      hops, propagation_bond: Alice's hop count and the bond of her graph's T (the
        controlled T she applies has one more); ``hops = 0`` leaves her one-off build out.
    """
    if min(n_sites, layers, weight_bond, max_bond, batch, n_classes, propagation_bond) < 1 \
            or hops < 0:
        raise ValueError("every size of the deep circuit's ledger must be >= 1")
    n, chi, d = n_sites, max_bond, PHYS_DIM
    factor = F.COMPLEX_FACTOR if complex_ else 1
    records = []
    for _ in range(hops):
        records += _mpo(0, ALICE, n, propagation_bond + 1, chi, itemsize, factor)
    sweep = F.hadamard_sweep_bond(chi, chi, chi)
    count, cost = F.mps_hadamard(n, chi, chi, sweep, d)
    work = 2 * n * chi * chi * d + n * sweep * sweep * d + sweep * d * chi * chi
    for layer in range(1, layers + 1):
        records += _mpo(layer, BOB, n, weight_bond, chi, itemsize, factor)
        records += [Contraction(layer, BOB, "hadamard_product", REGISTERS, count, cost * factor,
                                work * itemsize, chi, sweep),
                    _compression(layer, BOB, n, sweep, chi, itemsize, factor),
                    _compression(layer, BOB, n, 2 * chi, chi, itemsize, factor),
                    _compression(layer, BOB, n, 2 * chi, chi, itemsize, factor)]
    records += _mpo(layers + 1, BOB, n, weight_bond, chi, itemsize, factor)
    reads = batch * n_classes
    records.append(Contraction(layers + 2, BOB, "overlap", REGISTERS, reads,
                               reads * F.product_overlap(n, chi, d) * factor,
                               (n * chi * chi * d + batch * n_classes) * itemsize, chi, 1))
    return records


def deep_sign_handoff(*, n_sites: int, layers: int, max_bond: int, bits: int = 32) -> dict:
    """Alice -> Bob: Φ per copy (qubits), the copies one read-out takes (``2^L``), and what a
    classical Alice would send instead: the dense vector, or Φ as an MPS of bond χ."""
    profile = bond_profile(n_sites, max_bond)
    return {"from": ALICE, "to": BOB, "registers": list(REGISTERS), "qubits_per_copy": n_sites,
            "copies_per_readout": 2**layers, "quantum_qubits": n_sites * 2**layers,
            "classical_bits": 2**n_sites * bits,
            "classical_mps_bits": mps_numbers(profile) * bits,
            "mps_max_bond": int(max(profile))}


def per_step_flops(records: list[Contraction]) -> dict[str, int]:
    """FLOPs per party of one training step's forward pass: Alice's hop state (step 0) is
    built once per run, so it is left out."""
    out: dict[str, int] = {}
    for r in records:
        if r.step:
            out[r.party] = out.get(r.party, 0) + r.flops
    return out


def ledger_table(records: list[Contraction], handoff: dict) -> str:
    """The ledger as text: one line per (step, party, kind), then the hand-off."""
    lines = [f"{'step':>4}  {'party':<6} {'kind':<17} {'count':>7} {'FLOPs':>10} "
             f"{'bytes':>10}  bond in -> out"]
    for r in records:
        lines.append(f"{r.step:>4}  {r.party:<6} {r.kind:<17} {r.count:>7} {r.flops:>10.3g} "
                     f"{r.bytes:>10.3g}  {r.bond_in} -> {r.bond_out}")
    totals: dict[str, list[int]] = {}
    for r in records:
        t = totals.setdefault(r.party, [0, 0, 0])
        t[0] += r.count
        t[1] += r.flops
        t[2] = max(t[2], r.bytes)
    for party, (count, flops, peak) in totals.items():
        lines.append(f"total {party}: {count} contractions, {flops:.3g} FLOPs, peak "
                     f"{peak:.3g} bytes")
    h = handoff
    lines.append(f"hand-off {h['from']} -> {h['to']}: {h['qubits_per_copy']} qubits per copy, "
                 f"{h['copies_per_readout']} copies per read-out ({h['quantum_qubits']} "
                 f"qubits); classical: {float(h['classical_bits']):.3g} bits dense, "
                 f"{float(h['classical_mps_bits']):.3g} bits as an MPS of bond "
                 f"{h['mps_max_bond']} (polylogarithmic in the nodes too)")
    return "\n".join(lines)


def itemsize_of(dtype) -> tuple[bool, int]:
    """``(complex?, bytes per element)`` of a dtype."""
    dt = np.dtype(dtype)
    return bool(np.issubdtype(dt, np.complexfloating)), dt.itemsize
