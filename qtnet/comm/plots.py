"""The report's figure: per-hand-off communication beside per-party compute."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _float(x) -> float:
    """A count as a float for the axis; past a float's range, its largest value."""
    try:
        return float(x)
    except OverflowError:
        return float(np.finfo(float).max)


def plot_report(report, path: str | Path) -> Path:
    """Left: per hand-off, quantum qubits against the dense and MPS classical bits (log
    scale). Right: per party, FLOPs by contraction kind (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report.rows
    labels = [f"{r['step']}:{r['from']}>{r['to']}\n{r['purpose']}" for r in rows]
    x = np.arange(len(rows))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(max(6, 0.6 * len(rows) + 2) + 4, 4),
                                 gridspec_kw={"width_ratios": [max(2, len(rows)), 2]})
    # floats: exact counts can pass 2^63, which matplotlib's integer path cannot hold
    ax.bar(x - 0.27, [_float(r["quantum_qubits"]) for r in rows], 0.27, label="quantum (qubits)")
    ax.bar(x, [_float(r["classical_bits"]) for r in rows], 0.27,
           label="classical, dense vector (bits)")
    ax.bar(x + 0.27, [_float(r["classical_mps_bits"]) for r in rows], 0.27,
           label="classical, as an MPS (bits)")
    ax.set_yscale("log")
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("communication")
    ax.set_title(f"{report.info.get('name', 'protocol')}: per hand-off")
    ax.legend(fontsize=7)
    parties = report.per_party()
    names = list(parties)
    kinds = sorted({k for p in parties.values() for k in p.get("flops_by_kind", {})})
    px = np.arange(len(names))
    width = 0.8 / max(1, len(kinds))
    for j, kind in enumerate(kinds):          # grouped, not stacked: the axis is logarithmic
        vals = [_float(parties[p].get("flops_by_kind", {}).get(kind, 0)) for p in names]
        bx.bar(px - 0.4 + (j + 0.5) * width, vals, width, label=kind)
    bx.set_xticks(px, names)
    if kinds:
        bx.set_yscale("log")
        bx.legend(fontsize=7)
    bx.set_ylabel("FLOPs per run (one copy)")
    bx.set_title(f"compute per party ({report.info.get('backend', '')})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
