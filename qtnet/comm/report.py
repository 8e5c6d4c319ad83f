"""Communication reports from a config: the protocol it names, metered, as text/JSON/CSV/PNG."""

from __future__ import annotations

from pathlib import Path

from qtnet.comm.estimators import Estimator
from qtnet.comm.meter import CommReport, approx, meter
from qtnet.config import CommReportConfig
from qtnet.parties import chain_protocol, figure2_protocol, linear_protocol


def protocol_from_config(config: CommReportConfig):
    if config.protocol == "figure2":
        return figure2_protocol(config.qubits, config.layers, depth=config.depth,
                                ansatz=config.ansatz, observable=config.observable)
    if config.protocol == "linear":
        return linear_protocol(config.qubits)
    names = [f"party{i}" for i in range(1, config.parties + 1)]
    return chain_protocol(names, config.qubits, rounds=config.layers, depth=config.depth,
                          ansatz=config.ansatz, observable=config.observable)


def report_from_config(config: CommReportConfig, name: str = "protocol", *,
                       backend: str = "mps", max_bond: int | None = None,
                       dtype=None) -> CommReport:
    """The ledgers of the config's protocol; ``backend``, ``max_bond`` and ``dtype`` are what
    its contractions are priced on (see :func:`qtnet.comm.ledger.contraction_ledger`)."""
    estimator = Estimator(config.epsilon, config.delta, config.gradient, config.bits,
                          config.shadow_constant)
    estimates = config.classes if config.protocol == "linear" else 1
    return meter(protocol_from_config(config), estimator, name=name, backend=backend,
                 max_bond=max_bond, dtype=dtype, estimates=estimates)


def summary_text(report: CommReport) -> str:
    """A short table: one line per hand-off, then the totals and the quantum/classical ratio."""
    lines = [f"{'step':>4} {'from':>8} {'to':>8} {'purpose':>9} {'qubits':>7} {'copies':>12} "
             f"{'quantum qubits':>15} {'classical bits':>15} {'classical MPS bits':>18}"]
    for r in report.rows:
        lines.append(f"{r['step']:>4} {r['from']:>8} {r['to']:>8} {r['purpose']:>9} "
                     f"{r['qubits_per_copy']:>7} {r['copies']:>12} "
                     f"{approx(r['quantum_qubits']):>15} {approx(r['classical_bits']):>15} "
                     f"{approx(r['classical_mps_bits']):>18}")
    t = report.totals()
    lines.append(f"total: {t['handoffs']} hand-offs, {approx(t['quantum_qubits'])} qubits "
                 f"quantum, {approx(t['classical_bits'])} bits classical "
                 f"(ratio {t['quantum_qubits'] / t['classical_bits']:.3g}), "
                 f"{approx(t['classical_mps_bits'])} bits as an MPS")
    lines += ["", party_table(report), "", crossover_text(report)]
    linear = report.info.get("classical_inner_product")
    if linear:
        lines += ["", f"linear model: the classical protocol sends {linear['bits']} bits "
                      f"{linear['sender']} -> {linear['receiver']} for all {linear['classes']} "
                      f"scores ({linear['source']}); quantum / classical = "
                      f"{t['quantum_qubits'] / linear['bits']:.3g} (4 n K / pi^2: grows like "
                      f"log N); both are polylogarithmic in N, no exponential advantage, so "
                      f"the crossover above is against the dense vector, not the competitor"]
    return "\n".join(lines)


def party_table(report: CommReport) -> str:
    """Per party: contractions, FLOPs (and by kind), peak bytes, qubits and bits sent."""
    info = report.info
    cap = info.get("bond_cap")
    bond = f"bond cap {cap if cap < 2**53 else approx(cap)}" if cap is not None else (
        "statevector, no bonds")
    head = f"compute per run ({info.get('backend')} backend, {bond}, one copy):"
    lines = [head, f"{'party':>8} {'contractions':>12} {'FLOPs':>11} {'peak bytes':>11} "
                   f"{'sent qubits':>12} {'sent bits':>11}  FLOPs by kind"]
    for name, p in report.per_party().items():
        kinds = ", ".join(f"{k} {approx(v)}" for k, v in p.get("flops_by_kind", {}).items())
        lines.append(f"{name:>8} {p.get('contractions', 0):>12} {approx(p.get('flops', 0)):>11} "
                     f"{approx(p.get('peak_bytes', 0)):>11} {approx(p['sent_qubits']):>12} "
                     f"{approx(p['sent_classical_bits']):>11}  {kinds}")
    t = report.totals()
    lines.append(f"total: {t['contractions']} contractions, {approx(t['flops'])} FLOPs, "
                 f"peak {approx(t['peak_bytes'])} bytes")
    return "\n".join(lines)


def crossover_text(report: CommReport) -> str:
    """The crossover and the classical-MPS caveat, in words."""
    c = report.to_dict()["protocol"].get("crossover") or {}
    lines = [f"classical MPS message: {report.info.get('classical_mps', '')}"]
    for key, what in (("dense", "the dense classical message"),
                      ("mps", "the classical MPS message")):
        hit = c.get(key)
        if hit:
            lines.append(f"crossover: the quantum total falls below {what} from "
                         f"N = 2^{hit['qubits']} on ({approx(hit['quantum'])} qubits against "
                         f"{approx(hit['classical'])} bits)")
        elif c:
            lines.append(f"crossover: never below {what} up to N = "
                         f"2^{c['scanned_up_to_qubits']}")
    if c.get("note"):
        lines.append(f"  ({c['note']}; varying register {c['register']!r} with alpha, "
                     f"epsilon, delta and the bond cap fixed)")
    return "\n".join(lines)


def write_outputs(report: CommReport, out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report.to_json(out / "comm_report.json")
    report.to_csv(out / "comm_report.csv")
    report.contractions_csv(out / "comm_contractions.csv")
    report.plot(out / "comm_report.png")
    return [out / f"comm_report.{ext}" for ext in ("json", "csv", "png")] + [
        out / "comm_contractions.csv"]
