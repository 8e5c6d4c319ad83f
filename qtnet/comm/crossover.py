"""Where the quantum protocol starts to win: the smallest N with a cheaper quantum total.

The hand-off ledger's totals are closed-form functions of the register sizes: copies depend
on n through the gradient's parameter count P (parameter shift: 2P ceil(2 ln(4P/delta)
A^2/eps^2); shadow: n log^2 P_l (A/eps)^4), each hand-off carries n qubits per copy, the
dense classical message 2^n numbers, the MPS message sum_i chi_i d chi_(i+1). So the
crossover is found by re-metering the protocol with one register resized, n = 1, 2, ...,
keeping its steps, sub-normalisations (alpha), epsilon, delta and bond cap fixed.
"""

from __future__ import annotations

import dataclasses

from qtnet.comm.estimators import Estimator
from qtnet.comm.handoffs import handoff_rows
from qtnet.parties.protocol import Protocol
from qtnet.parties.registers import Layout


def resized(protocol: Protocol, register: str, n_qubits: int) -> Protocol:
    """``protocol`` with ``register`` holding ``n_qubits`` (raises if the steps do not fit)."""
    regs = tuple(dataclasses.replace(r, n_qubits=n_qubits) if r.name == register else r
                 for r in protocol.layout.registers)
    return dataclasses.replace(protocol, layout=Layout(regs))


def totals_at(protocol: Protocol, estimator: Estimator, max_bond: int | None,
              estimates: int = 1) -> dict:
    """``{"quantum", "classical", "classical_mps"}`` totals of the hand-off ledger, the
    quantum one for ``estimates`` values (copies x estimates, as a report's rows)."""
    rows = handoff_rows(protocol, estimator, max_bond=max_bond)
    return {"quantum": estimates * sum(r["quantum_qubits"] for r in rows),
            "classical": sum(r["classical_bits"] for r in rows),
            "classical_mps": sum(r["classical_mps_bits"] for r in rows)}


def _first_lasting(sizes: list[int], below: list[bool]) -> int | None:
    """The smallest size from which ``below`` holds at every larger size scanned."""
    first = None
    for size, ok in zip(reversed(sizes), reversed(below)):
        if not ok:
            break
        first = size
    return first


def crossover(protocol: Protocol, estimator: Estimator, *, max_bond: int | None = None,
              register: str | None = None, max_qubits: int = 256,
              estimates: int = 1) -> dict:
    """The smallest N = 2^(all qubits) from which the quantum total stays below the dense
    classical total (and the MPS one), scanning ``register`` (default: the largest) over
    1..``max_qubits`` qubits; sizes at which the protocol does not fit (an observable on a
    site beyond the register) are skipped. ``estimates``: values read out, each with its
    own copies (``estimator.delta`` already split over them).

    Returns:
      ``{"register", "dense": {"qubits", "N", "quantum", "classical"} | None,
      "mps": {...} | None, "scanned_up_to", "note"}``.
    """
    layout = protocol.layout
    register = register or max(layout.registers, key=lambda r: r.n_qubits).name
    layout.register(register)                          # unknown: a clear error
    others = layout.n_qubits - layout.register(register).n_qubits
    sizes, table = [], []
    for k in range(1, max_qubits + 1):
        try:
            t = totals_at(resized(protocol, register, k), estimator, max_bond, estimates)
        except ValueError:
            continue
        sizes.append(k)
        table.append(t)
    out = {"register": register, "scanned_up_to_qubits": others + max_qubits}
    for key, competitor in (("dense", "classical"), ("mps", "classical_mps")):
        k = _first_lasting(sizes, [t["quantum"] < t[competitor] for t in table])
        if k is None:
            out[key] = None
            continue
        t = table[sizes.index(k)]
        out[key] = {"qubits": others + k, "N": 2 ** (others + k), "quantum": t["quantum"],
                    "classical": t[competitor]}
    if out["mps"] is None:
        last = table[-1] if table else None
        ratio = last["quantum"] / last["classical_mps"] if last else float("nan")
        out["note"] = (f"the quantum total stays above the compressed (MPS) message up to "
                       f"N = 2^{others + max_qubits} (ratio {ratio:.3g} there): with a fixed "
                       f"bond cap both grow polylogarithmically")
    else:
        out["note"] = "the quantum total falls below both classical messages"
    if out["dense"] is None:
        out["note"] = (f"the quantum total stays above the dense classical message up to "
                       f"N = 2^{others + max_qubits}")
    return out
