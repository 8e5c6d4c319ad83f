"""Total communication against data size N for the Figure 2 protocol: quantum vs classical.

    python scripts/comm_scaling.py [--epsilon 0.1] [--delta 0.05] [--depth 1] [--out FILE.png]

For N = 2^4 ... 2^40 and L in {1, 2, 4, 8}: quantum inference (the loss to +-eps), quantum
training steps (loss + gradient by parameter shift; by shadow tomography, an estimate of that
form with constant 1), and the classical analogues (the dense state at every hand-off:
inference forward only; training forward and backward). Prints the quantum/classical ratio at
N = 2^20, 2^30, 2^40 and writes the plot and a JSON of the numbers beside it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qtnet.comm import Estimator, meter
from qtnet.parties import figure2_protocol

LAYERS = (1, 2, 4, 8)
QUBITS = range(4, 41)


def totals(n: int, layers: int, args) -> dict[str, float]:
    protocol = figure2_protocol(n, layers, depth=args.depth)
    out = {}
    for gradient in ("none", "parameter_shift", "shadow"):
        report = meter(protocol, Estimator(args.epsilon, args.delta, gradient, args.bits))
        t = report.totals()
        key = {"none": "inference", "parameter_shift": "train_ps", "shadow": "train_shadow"}
        out[f"quantum_{key[gradient]}"] = t["quantum_qubits"]
        if gradient == "none":
            out["classical_inference"] = t["classical_bits"]
        else:
            out["classical_train"] = t["classical_bits"]
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilon", type=float, default=0.1)
    parser.add_argument("--delta", type=float, default=0.05)
    parser.add_argument("--depth", type=int, default=1, help="brickwork layers per unitary")
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--out", default="docs/comm_scaling.png")
    args = parser.parse_args(argv)

    table = {L: {n: totals(n, L, args) for n in QUBITS} for L in LAYERS}
    print(f"Figure 2 protocol, eps = {args.epsilon}, delta = {args.delta}, depth {args.depth}, "
          f"{args.bits}-bit classical numbers. quantum / classical:")
    print(f"{'L':>2} {'N':>6} {'inference':>11} {'train (p-shift)':>16} {'train (shadow)':>15}")
    for L in LAYERS:
        for n in (20, 30, 40):
            row = table[L][n]
            print(f"{L:>2} {'2^' + str(n):>6} "
                  f"{row['quantum_inference'] / row['classical_inference']:>11.3g} "
                  f"{row['quantum_train_ps'] / row['classical_train']:>16.3g} "
                  f"{row['quantum_train_shadow'] / row['classical_train']:>15.3g}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(LAYERS), figsize=(4 * len(LAYERS), 3.8), sharey=True)
    n_values = [2**n for n in QUBITS]
    styles = {"quantum_inference": ("quantum inference", "C0", "-"),
              "quantum_train_ps": ("quantum train, parameter shift", "C1", "-"),
              "quantum_train_shadow": ("quantum train, shadow (estimate)", "C2", "-"),
              "classical_inference": ("classical inference", "C0", "--"),
              "classical_train": ("classical train", "C1", "--")}
    for ax, L in zip(axes, LAYERS):
        for key, (label, color, style) in styles.items():
            ax.plot(n_values, [table[L][n][key] for n in QUBITS], style, color=color,
                    label=label)
        ax.set(xscale="log", yscale="log", xlabel="N (amplitudes)", title=f"L = {L}")
    axes[0].set_ylabel("total communication (qubits or bits)")
    axes[-1].legend(fontsize=7)
    fig.suptitle(f"Figure 2 protocol: eps = {args.epsilon}, delta = {args.delta}")
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    out.with_suffix(".json").write_text(json.dumps(
        {"args": vars(args), "table": {str(L): {str(n): v for n, v in t.items()}
                                       for L, t in table.items()}}, indent=1))
    print(f"wrote {out} and {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
