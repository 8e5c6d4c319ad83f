"""The communication meter: a ledger of every hand-off of a protocol, with totals and outputs.

Bookkeeping only: it reads the protocol's structure and the estimator's accuracy targets and
never touches what is traced or computed. For each hand-off and each purpose (``loss``: the
forward estimate; ``gradient``: the copies a gradient estimate consumes) it records the qubits
per copy, the copies, their product (the quantum communication), the bits the classical
analogue sends (the dense state, 2^qubits numbers of ``bits`` bits, once: a classical message
can be copied for free), the bytes this simulation moved between devices, and the Holevo bound
on the classical information those qubits can carry (one bit per qubit without prior
entanglement; two with it).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import numpy as np

from qtnet.comm.estimators import (Estimator, distribution_copies, hoeffding_copies,
                                   parameter_shift_copies, shadow_copies)
from qtnet.parties.protocol import Protocol
from qtnet.tn.mpo import pauli_terms

FIELDS = ("step", "from", "to", "purpose", "registers", "qubits_per_copy", "copies",
          "quantum_qubits", "classical_bits", "sim_bytes", "holevo_bits")


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


@dataclasses.dataclass
class CommReport:
    rows: list[dict]
    estimator: Estimator
    info: dict

    def totals(self) -> dict:
        keys = ("quantum_qubits", "classical_bits", "sim_bytes", "holevo_bits")
        out = {k: int(sum(r[k] for r in self.rows)) for k in keys}
        out["handoffs"] = len(self.rows)
        return out

    def per_party(self) -> dict:
        parties: dict[str, dict] = {}
        for r in self.rows:
            for name, role in ((r["from"], "sent"), (r["to"], "received")):
                p = parties.setdefault(name, {"sent_qubits": 0, "received_qubits": 0,
                                              "sent_classical_bits": 0,
                                              "received_classical_bits": 0})
                p[f"{role}_qubits"] += r["quantum_qubits"]
                p[f"{role}_classical_bits"] += r["classical_bits"]
        return parties

    def to_dict(self) -> dict:
        return {"handoffs": self.rows, "totals": self.totals(), "parties": self.per_party(),
                "estimator": dataclasses.asdict(self.estimator), "protocol": self.info}

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in self.rows:
            writer.writerow({**r, "registers": "+".join(r["registers"])})
        if path is not None:
            Path(path).write_text(buf.getvalue())
        return buf.getvalue()

    def plot(self, path: str | Path) -> Path:
        """Bar chart per hand-off: quantum qubits against classical bits (log scale)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        labels = [f"{r['step']}:{r['from']}>{r['to']}\n{r['purpose']}" for r in self.rows]
        x = np.arange(len(self.rows))
        fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(self.rows) + 2), 4))
        # floats: exact counts can pass 2^63, which matplotlib's integer path cannot hold
        ax.bar(x - 0.2, [float(r["quantum_qubits"]) for r in self.rows], 0.4,
               label="quantum (qubits)")
        ax.bar(x + 0.2, [float(r["classical_bits"]) for r in self.rows], 0.4,
               label="classical analogue (bits)")
        ax.set_yscale("log")
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_ylabel("communication")
        ax.set_title(f"{self.info.get('name', 'protocol')}: per hand-off")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return Path(path)


def meter(protocol: Protocol, estimator: Estimator, *, sim_bytes: dict[int, int] | None = None,
          name: str = "protocol") -> CommReport:
    """The ledger of ``protocol`` under ``estimator``; ``sim_bytes`` maps a hand-off's step to
    the bytes a device run actually moved there (see :mod:`qtnet.comm.devices`)."""
    copies = copies_per_purpose(protocol, estimator)
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
                "sim_bytes": int(moved), "holevo_bits": h.qubits_per_copy * n_copies})
    info = {"name": name, "parties": list(protocol.party_names),
            "n_qubits": protocol.layout.n_qubits, "steps": len(protocol.steps),
            "parameters": int(sum(protocol.parameter_counts().values())),
            "sub_normalisation": protocol.sub_normalisation(),
            "readout_scale": readout_scale(protocol), "copies": copies}
    return CommReport(rows, estimator, info)
