"""The QCNN phase diagram of the cluster-Ising chain (Cong, Choi & Lukin, Nat. Phys. 2019,
Fig. 2): train on the h2 = 0 line, read the (h1, h2) grid, compare the boundaries.

    PYTHONPATH=$PWD python scripts/qcnn_phase_diagram.py --reference 64   # once, ~7 min
    PYTHONPATH=$PWD python scripts/qcnn_phase_diagram.py [--grid16 9x9] [--grid64 7x7]

n = 16: trained and read on the tree backend, every grid point re-read on the dense backend
(the statevector check). n = 64: tree only (each DMRG MPS becomes a tree; no statevector).
Writes docs/qcnn_phase_diagram.png and docs/qcnn_phase_diagram.json.

The reference boundary: no digitised table of the paper's Fig. 2 boundary (iDMRG, Verresen,
Moessner & Pollmann, PRB 96, 165124 (2017)) was found in public code, so it is computed for
the same open chain: the peak of the half-chain entanglement entropy of DMRG ground states
along h2 rows (the SPT / paramagnet line) and h1 columns (the SPT / antiferromagnet line),
``--reference N`` -> docs/qcnn_reference_boundary.json (see docs/ttn_qcnn.md). Also shown:
the exact point (h1, h2) = (1, 0) and the string order of the same grid states (below its
value at (1, 0) at that n).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from qtnet.data.cluster_ising import ClusterIsingConfig, ground_state, string_order  # noqa: E402
from qtnet.experiments.qcnn_phases import (boundary_along_h1, grid_states,  # noqa: E402
                                           interpolated_boundaries,
                                           reference_antiferromagnet, reference_boundary,
                                           reference_spt, spt_probability, train_qcnn)
from qtnet.models.qcnn import INITS  # noqa: E402

# (h1, h2) on the phase boundaries known exactly (the free-fermion line h2 = 0).
EXACT_BOUNDARY = {"SPT-paramagnet": [(1.0, 0.0)], "SPT-antiferromagnet": []}


def grid(spec: str, h1_max: float = 1.6, h2_max: float = 1.6):
    n1, n2 = (int(v) for v in spec.lower().split("x"))
    h1s = np.linspace(0.1, h1_max, n1)
    h2s = np.linspace(-h2_max, h2_max, n2)
    return h1s, h2s


def run(n: int, spec: str, *, bond: int, tree_bond: int, steps: int, batch_size: int,
        train_points: int, test_points: int, dense_check: bool, reference: dict | None,
        init: str = "random", init_scale: float = 0.5, learning_rate: float = 0.05):
    start = time.perf_counter()
    config = ClusterIsingConfig(qubits=n, train_points=train_points, test_points=test_points,
                                bond=bond)
    trained = train_qcnn(config, backend="tree", max_bond=tree_bond, steps=steps,
                         batch_size=batch_size, init=init, init_scale=init_scale,
                         learning_rate=learning_rate)
    print(f"n = {n}: {train_points} + {test_points} ground states in "
          f"{trained.data_seconds:.0f} s, trained {steps} steps of {batch_size} states in "
          f"{trained.seconds:.0f} s (compile {trained.compile_seconds:.0f} s, "
          f"{trained.step_seconds:.2f} s a step), loss {trained.losses[0]:.3f} -> "
          f"{trained.losses[-1]:.3f}, train accuracy {trained.train_accuracy:.3f}, "
          f"test accuracy {trained.test_accuracy:.3f}", flush=True)
    h1s, h2s = grid(spec)
    t0 = time.perf_counter()
    states, sop, afm, mx = grid_states(n, h1s, h2s, bond=bond)
    dmrg_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    p_tree, fidelity = spt_probability(trained.model, states, backend="tree",
                                       max_bond=tree_bond)
    read_seconds = time.perf_counter() - t0
    p_tree = p_tree.reshape(len(h2s), len(h1s))
    result = {"n": n, "bond": bond, "tree_bond": tree_bond, "h1": h1s.tolist(),
              "h2": h2s.tolist(), "p_spt": p_tree.tolist(), "string_order": sop.tolist(),
              "staggered_order": afm.tolist(), "magnetisation": mx.tolist(),
              "tree_fidelity_min": float(fidelity.min()),
              "train_accuracy": trained.train_accuracy,
              "test_accuracy": trained.test_accuracy, "loss_first": trained.losses[0],
              "loss_last": trained.losses[-1], "steps": steps, "batch_size": batch_size,
              "init": init, "init_scale": init_scale, "learning_rate": learning_rate,
              "data_seconds": trained.data_seconds, "train_seconds": trained.seconds,
              "compile_seconds": trained.compile_seconds,
              "step_seconds": trained.step_seconds,
              "grid_dmrg_seconds": dmrg_seconds, "grid_read_seconds": read_seconds}
    if dense_check:
        p_dense = spt_probability(trained.model, states, backend="dense")[0].reshape(
            p_tree.shape)
        result["max_tree_dense_difference"] = float(np.abs(p_dense - p_tree).max())
        print(f"  tree vs dense P(SPT) on the grid: max difference "
              f"{result['max_tree_dense_difference']:.2e}")
    critical, _ = ground_state(n, 1.0, 0.0, bond=bond)
    threshold = string_order(critical)
    qcnn_spt = p_tree > 0.5
    result["sop_threshold"] = threshold
    result["agreement_with_string_order"] = float(np.mean((sop > threshold) == qcnn_spt))
    # what the circuit reads: the magnetisation at its h2 = 0 boundary, as a threshold
    zero = int(np.argmin(np.abs(h2s)))
    edge = boundary_along_h1(p_tree[zero], h1s, 0.5)
    m_star = float(np.interp(edge, h1s, mx[zero])) if np.isfinite(edge) else float("nan")
    result["magnetisation_threshold"] = m_star
    result["agreement_with_magnetisation"] = float(np.mean((mx < m_star) == qcnn_spt))
    rows = [{"h2": float(h2), "qcnn_h1": boundary_along_h1(p_tree[i], h1s, 0.5),
             "string_order_h1": boundary_along_h1(sop[i], h1s, threshold)}
            for i, h2 in enumerate(h2s)]
    result["boundaries"] = rows
    if reference is not None:
        ref_spt = reference_spt(reference, h1s, h2s)
        result["reference_n"] = reference["n"]
        result["agreement_with_reference"] = float(np.mean(ref_spt == qcnn_spt))
        afm = h2s[:, None] < -0.5 + 0 * h1s[None, :]
        result["agreement_with_reference_h2_below_-0.5"] = float(
            np.mean((ref_spt == qcnn_spt)[afm]))
        result["on_reference_lines"] = interpolated_boundaries(p_tree, h1s, h2s, reference)
        ref_afm = reference_antiferromagnet(reference, h1s, h2s)
        result["reference_antiferromagnet_points"] = int(ref_afm.sum())
        result["reference_antiferromagnet_read_as_spt"] = int((ref_afm & qcnn_spt).sum())
    result["seconds"] = time.perf_counter() - start
    print(f"  grid {len(h1s)} x {len(h2s)}: DMRG {dmrg_seconds:.0f} s, QCNN read-out "
          f"{read_seconds:.1f} s (tree fidelity >= {fidelity.min():.4f}); QCNN (P > 0.5) "
          f"agrees with string order > {threshold:.3f} on "
          f"{result['agreement_with_string_order']:.1%} of the grid, with the reference "
          f"phases on {result.get('agreement_with_reference', float('nan')):.1%}, with "
          f"magnetisation < {m_star:.3f} on {result['agreement_with_magnetisation']:.1%}")
    if reference is not None:
        print(f"  reference antiferromagnet points read as SPT: "
              f"{result['reference_antiferromagnet_read_as_spt']} of "
              f"{result['reference_antiferromagnet_points']}")
    print("   h2     SPT boundary h1: QCNN   string order")
    for r in rows:
        print(f"  {r['h2']:+.2f}   {r['qcnn_h1']:8.3f}   {r['string_order_h1']:8.3f}")
    if reference is not None:
        for c in result["on_reference_lines"]["columns"]:
            print(f"  h1 = {c['h1']:.2f}: SPT / AFM boundary h2: QCNN {c['qcnn_h2']:.3f}, "
                  f"reference {c['reference_h2']:.3f}")
        for r in result["on_reference_lines"]["rows"]:
            print(f"  h2 = {r['h2']:+.2f}: SPT / PM boundary h1: QCNN {r['qcnn_h1']:.3f}, "
                  f"reference {r['reference_h1']:.3f}")
    print(f"  total {result['seconds']:.0f} s", flush=True)
    return result


def plot(results, path: Path, reference: dict | None = None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 4.4),
                             squeeze=False)
    for ax, r in zip(axes[0], results):
        h1, h2 = np.asarray(r["h1"]), np.asarray(r["h2"])
        image = ax.pcolormesh(h1, h2, np.asarray(r["p_spt"]), shading="nearest",
                              cmap="viridis", vmin=0, vmax=1)
        ax.contour(h1, h2, np.asarray(r["p_spt"]), levels=[0.5], colors="white",
                   linewidths=2)
        ax.contour(h1, h2, np.asarray(r["string_order"]), levels=[r["sop_threshold"]],
                   colors="red", linestyles="--", linewidths=1.5)
        if "staggered_order" in r:
            ax.contour(h1, h2, np.asarray(r["staggered_order"]), levels=[0.1],
                       colors="orange", linestyles=":", linewidths=1.5)
        for name, marker in (("SPT-paramagnet", "D"), ("SPT-antiferromagnet", "s")):
            pts = np.asarray(EXACT_BOUNDARY[name]).reshape(-1, 2)
            if len(pts):
                ax.scatter(pts[:, 0], pts[:, 1], marker=marker, color="cyan", s=50,
                           edgecolor="black", zorder=3, label=f"exact {name}")
        if reference is not None:
            ax.scatter([r["peak"] for r in reference["rows"]],
                       [r["h2"] for r in reference["rows"]], marker="D", color="magenta",
                       s=30, edgecolor="black", zorder=3)
            ax.scatter([c["h1"] for c in reference["columns"]],
                       [c["peak"] for c in reference["columns"]], marker="s",
                       color="magenta", s=30, edgecolor="black", zorder=3)
        ax.axhline(0.0, color="white", lw=0.6, ls=":")
        ax.set_title(f"n = {r['n']}: P(SPT) of the QCNN (tree, init {r.get('init', 'random')})")
        ax.set_xlabel("h1")
        ax.set_ylabel("h2")
        fig.colorbar(image, ax=ax)
    axes[0][0].plot([], [], color="white", lw=2, label="QCNN P = 0.5")
    axes[0][0].plot([], [], color="red", ls="--", label="string order boundary")
    if "staggered_order" in results[0]:
        axes[0][0].plot([], [], color="orange", ls=":", label="-<X_a X_b>, odd b-a = 0.1")
    if reference is not None:
        axes[0][0].scatter([], [], marker="D", color="magenta", edgecolor="black",
                           label=f"entropy peak, n = {reference['n']} (reference)")
    axes[0][0].legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _no_nan(value):
    """``value`` with every NaN (a row with no boundary) as None, so the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid16", default="9x9", help="h1 x h2 points at n = 16")
    parser.add_argument("--grid64", default="7x7", help="h1 x h2 points at n = 64")
    parser.add_argument("--large", type=int, default=64, help="the n >= 64 chain")
    parser.add_argument("--bond", type=int, default=16, help="DMRG bond")
    parser.add_argument("--tree-bond", type=int, default=8, help="tree bond cap (cost ~ b^5)")
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--batch", type=int, default=8, help="training states per step")
    parser.add_argument("--lr", type=float, default=0.05, help="Adam learning rate")
    parser.add_argument("--init", default="random", choices=INITS,
                        help="the QCNN's initial circuit (model.init)")
    parser.add_argument("--init-scale", type=float, default=0.5,
                        help="spread of the initial angles around it")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--out", default="docs/qcnn_phase_diagram")
    parser.add_argument("--replot", action="store_true", help="redraw OUT.png from OUT.json")
    parser.add_argument("--reference", type=int, metavar="N",
                        help="only compute the entropy-peak boundary of the N-site chain "
                             "(docs/qcnn_reference_boundary.json)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.reference:
        start = time.perf_counter()
        ref = reference_boundary(args.reference, rows=(-0.4, 0.0, 0.4, 0.8, 1.2),
                                 columns=(0.1, 0.5, 0.9), bond=args.bond)
        ref["seconds"] = time.perf_counter() - start
        for r in ref["rows"]:
            print(f"  h2 = {r['h2']:+.2f}: entropy peak at h1 = {r['peak']:.3f}")
        for c in ref["columns"]:
            print(f"  h1 = {c['h1']:+.2f}: entropy peak at h2 = {c['peak']:.3f}")
        Path("docs/qcnn_reference_boundary.json").write_text(json.dumps(ref, indent=1))
        print(f"{ref['seconds']:.0f} s")
        return 0
    if args.replot:
        ref_path = Path("docs/qcnn_reference_boundary.json")
        plot(json.loads(out.with_suffix(".json").read_text()), out.with_suffix(".png"),
             json.loads(ref_path.read_text()) if ref_path.exists() else None)
        return 0
    ref_path = Path("docs/qcnn_reference_boundary.json")
    reference = json.loads(ref_path.read_text()) if ref_path.exists() else None
    results = []
    training = {"init": args.init, "init_scale": args.init_scale, "learning_rate": args.lr}
    if not args.skip_small:
        results.append(run(16, args.grid16, bond=args.bond, tree_bond=args.tree_bond,
                           steps=args.steps, batch_size=args.batch, train_points=24,
                           test_points=12, dense_check=True, reference=reference,
                           **training))
    if not args.skip_large:
        results.append(run(args.large, args.grid64, bond=args.bond, tree_bond=args.tree_bond,
                           steps=args.steps, batch_size=args.batch, train_points=16,
                           test_points=8, dense_check=False, reference=reference,
                           **training))
    if args.skip_small and out.with_suffix(".json").exists():   # keep the n = 16 run
        results = json.loads(out.with_suffix(".json").read_text())[:1] + results
    out.with_suffix(".json").write_text(json.dumps(_no_nan(results), indent=1,
                                                   allow_nan=False))
    plot(results, out.with_suffix(".png"), reference)
    print(f"wrote {out.with_suffix('.png')} and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
