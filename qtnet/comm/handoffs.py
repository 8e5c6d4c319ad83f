"""Hand-off rows: who sends the state to whom, in how many copies, against the classical
messages (the dense vector and the same state as an MPS)."""

from __future__ import annotations

import numpy as np

from qtnet.comm.estimators import (Estimator, distribution_copies, hoeffding_copies,
                                   parameter_shift_copies, shadow_copies)
from qtnet.comm.ledger import bond_profile, mps_numbers
from qtnet.parties.protocol import Protocol
from qtnet.tn.mpo import pauli_terms


def readout_scale(protocol: Protocol) -> float:
    """A: one copy's outcome spans [-A, A] ([0, A] for probabilities) in units of the
    quantity estimated."""
    readout = protocol.steps[-1]
    alpha = protocol.sub_normalisation()
    if readout.kind == "reference":
        return alpha                                    # Hadamard test on the overlap
    if readout.kind == "probabilities":
        return alpha**2
    coeffs, _ = pauli_terms(readout.observable, protocol.layout.n_qubits)
    return float(np.sum(np.abs(coeffs))) * alpha**2


def copies_per_purpose(protocol: Protocol, estimator: Estimator) -> dict[str, int]:
    """Readout copies for the loss and for the gradient under ``estimator``."""
    scale, readout = readout_scale(protocol), protocol.steps[-1]
    eps, delta = estimator.epsilon, estimator.delta
    outcomes = 2**readout.probabilities if readout.kind == "probabilities" else None
    if outcomes is None:
        out = {"loss": hoeffding_copies(eps, delta, scale)}
    else:
        out = {"loss": distribution_copies(eps, delta, outcomes, scale)}
    counts = list(protocol.parameter_counts().values())
    if estimator.gradient == "parameter_shift":
        out["gradient"] = parameter_shift_copies(sum(counts), eps, delta, scale, outcomes)
    elif estimator.gradient == "shadow":
        out["gradient"] = shadow_copies(counts, protocol.layout.n_qubits, eps, delta, scale,
                                        estimator.shadow_constant, outcomes or 1)
    return out


def handoff_rows(protocol: Protocol, estimator: Estimator, *, max_bond: int | None = None,
                 sim_bytes: dict[int, int] | None = None) -> list[dict]:
    """One row per hand-off and purpose (see the module docstring); ``classical_mps_bits``
    is the state sent as an MPS with the structural bond profile
    (:func:`qtnet.comm.ledger.bond_profile`), capped at ``max_bond`` (``None``: exact)."""
    copies = copies_per_purpose(protocol, estimator)
    profile = bond_profile(protocol.layout.n_qubits, max_bond)
    rows = []
    for purpose, m in copies.items():
        for h in protocol.handoffs():
            n_copies = m * h.copies_factor
            moved = (sim_bytes or {}).get(h.step, 0) if purpose == "loss" else 0
            rows.append({
                "step": h.step, "from": h.sender, "to": h.receiver, "purpose": purpose,
                "registers": list(h.registers), "qubits_per_copy": h.qubits_per_copy,
                "copies": n_copies, "quantum_qubits": h.qubits_per_copy * n_copies,
                "classical_bits": 2**h.qubits_per_copy * estimator.bits,
                "sim_bytes": int(moved), "holevo_bits": h.qubits_per_copy * n_copies,
                "classical_mps_bits": mps_numbers(profile) * estimator.bits,
                "mps_max_bond": int(max(profile))})
    return rows
