"""The communication meter: a ledger of every hand-off of a protocol, with totals and outputs.

Bookkeeping only: it reads the protocol's structure and the estimator's accuracy targets and
never touches what is traced or computed. For each hand-off and each purpose (``loss``: the
forward estimate; ``gradient``: the copies a gradient estimate consumes) it records the qubits
per copy, the copies, their product (the quantum communication), the bits the classical
analogue sends (the dense state, 2^qubits numbers of ``bits`` bits, once: a classical message
can be copied for free), the bits of the same state sent as an MPS (``classical_mps_bits``),
the bytes this simulation moved between devices, and the Holevo bound on the classical
information those qubits can carry (one bit per qubit without prior entanglement; two with
it). Beside it, the contraction ledger (:mod:`qtnet.comm.ledger`): every party's work.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path


from qtnet.comm.estimators import Estimator
from qtnet.comm.handoffs import copies_per_purpose, handoff_rows, readout_scale
from qtnet.comm.inner_product import inner_product_protocol
from qtnet.comm.ledger import CONTRACTION_FIELDS, Contraction, bond_cap, contraction_ledger
from qtnet.comm.ledger import per_party as contractions_per_party
from qtnet.parties.protocol import Protocol
from qtnet.tn import backends

FIELDS = ("step", "from", "to", "purpose", "registers", "qubits_per_copy", "copies",
          "quantum_qubits", "classical_bits", "sim_bytes", "holevo_bits", "classical_mps_bits",
          "mps_max_bond")


@dataclasses.dataclass
class CommReport:
    """The hand-off ledger (``rows``) and the contraction ledger (``contractions``) of one
    protocol; ``protocol`` (not serialised) lets :meth:`crossover` rebuild it at other sizes."""

    rows: list[dict]
    estimator: Estimator
    info: dict
    contractions: list[Contraction] = dataclasses.field(default_factory=list)
    protocol: Protocol | None = None

    def totals(self) -> dict:
        keys = ("quantum_qubits", "classical_bits", "sim_bytes", "holevo_bits")
        out = {k: int(sum(r[k] for r in self.rows)) for k in keys}
        out["handoffs"] = len(self.rows)
        out["classical_mps_bits"] = int(sum(r["classical_mps_bits"] for r in self.rows))
        out["contractions"] = int(sum(c.count for c in self.contractions))
        out["flops"] = int(sum(c.flops for c in self.contractions))
        out["peak_bytes"] = int(max((c.bytes for c in self.contractions), default=0))
        return out

    def per_party(self) -> dict:
        """Per party: qubits and bits sent and received, and its contractions, FLOPs, peak
        bytes and FLOPs by kind."""
        parties: dict[str, dict] = {}

        def entry(name):
            return parties.setdefault(name, {"sent_qubits": 0, "received_qubits": 0,
                                             "sent_classical_bits": 0,
                                             "received_classical_bits": 0})

        for r in self.rows:
            for name, role in ((r["from"], "sent"), (r["to"], "received")):
                p = entry(name)
                p[f"{role}_qubits"] += r["quantum_qubits"]
                p[f"{role}_classical_bits"] += r["classical_bits"]
        work = contractions_per_party(self.contractions)
        for name in self.info.get("parties", []) or list(work):
            p = entry(name)
            w = work.get(name, {"contractions": 0, "flops": 0, "bytes": 0, "by_kind": {}})
            p.update(contractions=w["contractions"], flops=w["flops"], peak_bytes=w["bytes"],
                     flops_by_kind=w["by_kind"])
        return parties

    def per_step(self) -> list[dict]:
        """One entry per protocol step: its party, contractions, FLOPs and peak bytes."""
        steps: dict[int, dict] = {}
        for c in self.contractions:
            s = steps.setdefault(c.step, {"step": c.step, "party": c.party, "contractions": 0,
                                          "flops": 0, "bytes": 0})
            s["contractions"] += c.count
            s["flops"] += c.flops
            s["bytes"] = max(s["bytes"], c.bytes)
        return [steps[k] for k in sorted(steps)]

    def crossover(self, max_qubits: int = 256) -> dict:
        """Where the quantum total falls below the classical ones (see
        :func:`qtnet.comm.crossover.crossover`); empty without a protocol."""
        if self.protocol is None:
            return {}
        from qtnet.comm.crossover import crossover

        return crossover(self.protocol, self.estimator, max_bond=self.info.get("max_bond"),
                         max_qubits=max_qubits, estimates=self.info.get("estimates", 1))

    def to_dict(self) -> dict:
        if self.protocol is not None and "crossover" not in self.info:
            self.info["crossover"] = self.crossover()          # computed once, then kept
        return {"handoffs": self.rows, "totals": self.totals(), "parties": self.per_party(),
                "estimator": dataclasses.asdict(self.estimator), "protocol": self.info,
                "contractions": [c.to_dict() for c in self.contractions],
                "steps": self.per_step()}

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """The hand-offs, one row each (``registers`` joined by ``+``)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in self.rows:
            writer.writerow({**r, "registers": "+".join(r["registers"])})
        if path is not None:
            Path(path).write_text(buf.getvalue())
        return buf.getvalue()

    def contractions_csv(self, path: str | Path | None = None) -> str:
        """The contractions, one row per step and kind (``registers`` joined by ``+``)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CONTRACTION_FIELDS, lineterminator="\n")
        writer.writeheader()
        for c in self.contractions:
            d = c.to_dict()
            writer.writerow({**d, "registers": "+".join(d["registers"])})
        if path is not None:
            Path(path).write_text(buf.getvalue())
        return buf.getvalue()

    def plot(self, path: str | Path) -> Path:
        """Per hand-off communication (qubits, dense and MPS bits) beside per-party FLOPs."""
        from qtnet.comm.plots import plot_report

        return plot_report(self, path)


def meter(protocol: Protocol, estimator: Estimator, *, sim_bytes: dict[int, int] | None = None,
          name: str = "protocol", backend="mps", max_bond: int | None = None, dtype=None,
          operator_bonds=None, estimates: int = 1) -> CommReport:
    """The ledgers of ``protocol`` under ``estimator``.

    Args:
      estimates: values read out (e.g. one score per class), each with its own copies and
        ``estimator.delta`` split over them (union bound); the rows' copies are the total.
      sim_bytes: maps a hand-off's step to the bytes a device run actually moved there (see
        :mod:`qtnet.parties.devices`).
      backend, max_bond, dtype, operator_bonds: what the contraction ledger prices (see
        :func:`qtnet.comm.ledger.contraction_ledger`); ``max_bond`` also caps the bond of
        the classical MPS message.
    """
    if estimates < 1:
        raise ValueError(f"estimates must be >= 1, got {estimates}")
    linear = inner_product_protocol(protocol, estimator, classes=estimates)
    estimator = dataclasses.replace(estimator, delta=estimator.delta / estimates)
    copies = copies_per_purpose(protocol, estimator)
    rows = handoff_rows(protocol, estimator, max_bond=max_bond, sim_bytes=sim_bytes)
    for row in rows:
        for key in ("copies", "quantum_qubits", "holevo_bits"):
            row[key] *= estimates
    records = contraction_ledger(protocol, backend=backend, max_bond=max_bond, dtype=dtype,
                                 operator_bonds=operator_bonds)
    n = protocol.layout.n_qubits
    info = {"name": name, "parties": list(protocol.party_names),
            "n_qubits": n, "steps": len(protocol.steps),
            "parameters": int(sum(protocol.parameter_counts().values())),
            "sub_normalisation": protocol.sub_normalisation(),
            "readout_scale": readout_scale(protocol), "copies": copies,
            "backend": backends.get(backend).name, "max_bond": max_bond,
            "bond_cap": (bond_cap(n, max_bond) if any(c.bond_out is not None for c in records)
                         else None),                 # None: a statevector has no bonds
            "classical_mps": classical_mps_note(rows, n, max_bond), "estimates": estimates}
    if linear is not None:
        info["classical_inner_product"] = linear
    return CommReport(rows, estimator, info, records, protocol)


def approx(x) -> str:
    """``x`` to 4 significant digits; an integer beyond a float's range as ``~2^k``."""
    try:
        return f"{x:.4g}"
    except OverflowError:
        return f"~2^{math.log2(x):.1f}"


def classical_mps_note(rows: list[dict], n_qubits: int, max_bond: int | None) -> str:
    """What the compressed classical message means for the claimed advantage."""
    if not rows:
        return "no hand-offs"
    mps, dense = sum(r["classical_mps_bits"] for r in rows), sum(r["classical_bits"]
                                                                   for r in rows)
    if max_bond is not None and max_bond < 2 ** (n_qubits // 2):
        return (f"bond capped at chi = {max_bond}: an MPS message is at most n chi^2 d numbers, "
                f"polylogarithmic in N like the quantum one; compare the quantum total with "
                f"classical_mps_bits ({approx(mps)}), not only with the dense vector "
                f"({approx(dense)})")
    return (f"exact bond (up to 2^(n/2)): the MPS message ({approx(mps)} bits) is no smaller "
            f"than the dense vector ({approx(dense)} bits) for a generic state; the dense figure "
            f"is the classical competitor")
