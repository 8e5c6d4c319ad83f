"""Communication reports from a config: the protocol it names, metered, as text/JSON/CSV/PNG."""

from __future__ import annotations

from pathlib import Path

from qtnet.comm.estimators import Estimator
from qtnet.comm.meter import CommReport, meter
from qtnet.config import CommReportConfig
from qtnet.parties import chain_protocol, figure2_protocol


def protocol_from_config(config: CommReportConfig):
    if config.protocol == "figure2":
        return figure2_protocol(config.qubits, config.layers, depth=config.depth,
                                ansatz=config.ansatz, observable=config.observable)
    names = [f"party{i}" for i in range(1, config.parties + 1)]
    return chain_protocol(names, config.qubits, rounds=config.layers, depth=config.depth,
                          ansatz=config.ansatz, observable=config.observable)


def report_from_config(config: CommReportConfig, name: str = "protocol") -> CommReport:
    estimator = Estimator(config.epsilon, config.delta, config.gradient, config.bits,
                          config.shadow_constant)
    return meter(protocol_from_config(config), estimator, name=name)


def summary_text(report: CommReport) -> str:
    """A short table: one line per hand-off, then the totals and the quantum/classical ratio."""
    lines = [f"{'step':>4} {'from':>8} {'to':>8} {'purpose':>9} {'qubits':>7} {'copies':>12} "
             f"{'quantum qubits':>15} {'classical bits':>15}"]
    for r in report.rows:
        lines.append(f"{r['step']:>4} {r['from']:>8} {r['to']:>8} {r['purpose']:>9} "
                     f"{r['qubits_per_copy']:>7} {r['copies']:>12} {r['quantum_qubits']:>15.4g} "
                     f"{r['classical_bits']:>15.4g}")
    t = report.totals()
    lines.append(f"total: {t['handoffs']} hand-offs, {t['quantum_qubits']:.4g} qubits quantum, "
                 f"{t['classical_bits']:.4g} bits classical "
                 f"(ratio {t['quantum_qubits'] / t['classical_bits']:.3g})")
    return "\n".join(lines)


def write_outputs(report: CommReport, out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report.to_json(out / "comm_report.json")
    report.to_csv(out / "comm_report.csv")
    report.plot(out / "comm_report.png")
    return [out / f"comm_report.{ext}" for ext in ("json", "csv", "png")]
