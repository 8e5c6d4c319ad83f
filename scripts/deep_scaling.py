"""The deep polynomial SIGN circuit (``model.type: deep_sign``) on the MPS and dense backends
against the number of node qubits: agreement (float64, forward logits and gradients, at a bond
cap the circuit never reaches: fidelity 1) where both run, and step time (compile apart) and
peak memory for each backend as far as it goes.

Each (backend, node qubits) point runs in its own process, so its peak RSS is its own.

    python scripts/deep_scaling.py [--qubits 8,12,16,20] [--mps-only 24,28,32] [--bond 16]
        [--layers 1] [--budget 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REST, CLASSES, BATCH = 2, 3, 32


def point(backend: str, node_qubits: int, bond: int, layers: int, repeats: int) -> dict:
    """One backend at one size: logits, gradients and the timings of a jitted step."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import optax
    from flax import nnx

    from qtnet import tn
    from qtnet.gnn.synthetic import node_bits
    from qtnet.models.deep_sign import DeepSign

    sites = node_qubits + REST
    # uniform + a bond-2 random part: node amplitudes O(1), a low-rank data state
    uniform = tn.product_state(np.ones((sites, 2)), dtype=jnp.float64)
    noise = tn.random_mps(jax.random.PRNGKey(0), sites, 2, max_bond=bond, dtype=jnp.float64)
    x = tn.add(uniform, tn.scale(noise, 0.3 * 2.0 ** (sites / 2)), max_bond=bond)
    model = DeepSign(x, node_qubits, CLASSES, layers=layers, weight_bond=1, backend=backend,
                     max_bond=bond, rngs=nnx.Rngs(params=1))
    graphdef, params = nnx.split(model, nnx.Param)
    nodes = np.random.default_rng(0).integers(0, 2**node_qubits, BATCH, dtype=np.int64)
    bits = jnp.asarray(node_bits(nodes, node_qubits))
    y = jnp.asarray(nodes % CLASSES)

    def loss(p):
        out = nnx.merge(graphdef, p)(bits)
        ce = optax.softmax_cross_entropy_with_integer_labels(out["logits"], y).mean()
        return ce, out

    step = jax.jit(jax.value_and_grad(loss, has_aux=True))
    t0 = time.perf_counter()
    (value, out), grads = jax.block_until_ready(step(params))
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(step(params))
        times.append(time.perf_counter() - t0)
    flat = np.concatenate([np.ravel(g) for g in jax.tree.leaves(nnx.to_pure_dict(grads))])
    return {"backend": backend, "node_qubits": node_qubits, "sites": sites, "bond": bond,
            "layers": layers,
            "loss": float(value), "logits": np.asarray(out["logits"]).tolist(),
            "grad": flat.tolist(), "fidelity": float(jnp.min(out["fidelity"])),
            "first_step_s": first, "step_s": float(np.median(times)),
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def run_point(backend, n, bond, layers, repeats, timeout):
    cmd = [sys.executable, __file__, "--point", f"{backend}:{n}:{bond}:{layers}:{repeats}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"backend": backend, "node_qubits": n, "error": f"over {timeout:.0f} s"}
    if proc.returncode:
        return {"backend": backend, "node_qubits": n,
                "error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", default="8,12,16,20", help="node qubits, both backends")
    parser.add_argument("--mps-only", default="24,28,32", help="node qubits, MPS only")
    parser.add_argument("--bond", type=int, default=16,
                        help="bond cap; the default never truncates the default layers")
    parser.add_argument("--layers", type=int, default=1, help="L (degree 2^L)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=1500.0, help="seconds, all points")
    parser.add_argument("--out", default="bench_results/deep_scaling.json")
    parser.add_argument("--point", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.point:
        backend, n, bond, layers, repeats = args.point.split(":")
        print(json.dumps(point(backend, int(n), int(bond), int(layers), int(repeats))))
        return

    import numpy as np

    both = [int(q) for q in args.qubits.split(",") if q]
    mps_only = [int(q) for q in args.mps_only.split(",") if q]
    plan = [(b, n) for n in both for b in ("mps", "dense")] + [("mps", n) for n in mps_only]
    deadline = time.monotonic() + args.budget
    rows = []
    print(f"{'backend':8s} {'nodes':>6s} {'fidelity':>9s} {'first s':>8s} {'step s':>8s} "
          f"{'peak GB':>8s}  agreement (max |diff| / max |dense|)")
    for backend, n in plan:
        left = deadline - time.monotonic()
        if left < 10:
            rows.append({"backend": backend, "node_qubits": n, "error": "budget spent"})
            print(f"{backend:8s} 2^{n:<4d} budget spent")
            continue
        row = run_point(backend, n, args.bond, args.layers, args.repeats, left)
        rows.append(row)
        if "error" in row:
            print(f"{backend:8s} 2^{n:<4d} {row['error']}")
            continue
        agree = ""
        twin = next((r for r in rows if r is not row and r.get("node_qubits") == n
                     and "grad" in r and r["backend"] != backend), None)
        if twin is not None:
            mps, dense = (row, twin) if backend == "mps" else (twin, row)
            lg = np.abs(np.subtract(mps["logits"], dense["logits"])).max()
            gr = np.abs(np.subtract(mps["grad"], dense["grad"])).max() / np.abs(dense["grad"]).max()
            row["logit_error"], row["grad_error"] = float(lg), float(gr)
            agree = f"logits {lg:.1e}, gradients {gr:.1e}"
        print(f"{backend:8s} 2^{n:<4d} {row['fidelity']:9.6f} {row['first_step_s']:8.1f} "
              f"{row['step_s']:8.3f} {row['peak_rss_gb']:8.2f}  {agree}")
    for row in rows:
        row.pop("logits", None), row.pop("grad", None)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"bond": args.bond, "layers": args.layers, "rest_qubits": REST, "batch": BATCH,
                   "rows": rows}, f, indent=1)
    plot(rows, os.path.splitext(args.out)[0] + ".png")


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for backend in ("mps", "dense"):
        pts = [r for r in rows if r["backend"] == backend and "step_s" in r]
        xs = [r["node_qubits"] for r in pts]
        axes[0].semilogy(xs, [r["step_s"] for r in pts], "o-", label=backend)
        axes[1].semilogy(xs, [r["peak_rss_gb"] for r in pts], "o-", label=backend)
    axes[0].set(xlabel="node qubits (log2 N)", ylabel="step time, s (value + gradient)")
    axes[1].set(xlabel="node qubits (log2 N)", ylabel="peak RSS, GB")
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
