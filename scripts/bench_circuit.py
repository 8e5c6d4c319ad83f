"""Benchmark: value+grad of <Z_{n/2}> for an RY/CZ brickwork circuit on the MPS backend.

Layer l: RY(theta) on every qubit, then CZ on pairs (i, i+1) for i = l mod 2, l mod 2 + 2, ...
That circuit is real, and on the MPS backend it runs in real arithmetic (complex64 ->
float32, ``evolve.apply_brickwork_real``) unless ``--complex-arithmetic``; ``--single rx_rz``
puts RZ(theta) RX(theta) on every qubit instead, a complex circuit with the same shapes.
For each (n, D, chi) it reports first-call (compile) seconds, median step seconds (wall and
process CPU time: on a shared machine the CPU time of a single-threaded run, e.g. with
OPENBLAS_NUM_THREADS=1 and XLA_FLAGS=--xla_cpu_multi_thread_eigen=false, is the steadier
figure) and the peak resident memory of a fresh process running only that case, then prints
a table and writes JSON.

    python scripts/bench_circuit.py                       # the issue's grid
    python scripts/bench_circuit.py --n 16 64 --chi 32 --dtype complex64 --budget 300
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time


SINGLE_GATES = {"ry": ("RY",), "rx_rz": ("RX", "RZ")}


def brickwork_loss(n: int, depth: int, chi: int, dtype, backend: str = "mps",
                   full_cap: bool = False, single_gates: str = "ry",
                   real_arithmetic: bool = True):
    """``loss(theta [D, n]) -> <Z_{n/2}>`` for the brickwork circuit.

    ``single_gates``: ``"ry"`` (RY(theta)) or ``"rx_rz"`` (RZ(theta) RX(theta)) on every qubit.
    ``real_arithmetic``: run a circuit of real gates in the real dtype (MPS backend).
    """
    import jax.numpy as jnp
    import numpy as np

    from qtnet.tn import dense, evolve
    from qtnet.tn.contract import expectation_local
    from qtnet.tn.gates import FIXED_2Q, is_real_gate, rx, ry, rz
    from qtnet.tn.mps import product_state
    from qtnet.tn.program import brickwork_bond_bound

    names = SINGLE_GATES[single_gates]
    real = real_arithmetic and all(is_real_gate(g) for g in names + ("CZ",))
    gate_dtype = jnp.finfo(dtype).dtype if real else dtype
    pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], gate_dtype), (depth, n // 2, 4, 4))
    z_ops = np.tile(np.eye(2), (n, 1, 1)).astype(complex)
    z_ops[n // 2] = np.diag([1.0, -1.0])
    z_ops = jnp.asarray(z_ops, dtype)
    zero = np.tile([1.0, 0.0], (n, 1))

    # The state's fixed bond cap: chi, or less when the circuit provably cannot need chi.
    cap = chi if full_cap else min(chi, int(brickwork_bond_bound(n, pairs).max()))

    def gates(theta):                                        # [D, n, 2, 2]
        if single_gates == "ry":
            return ry(theta).astype(gate_dtype)
        return (rz(theta) @ rx(theta)).astype(gate_dtype)

    def loss(theta):
        single = gates(theta)
        if backend == "dense":
            state = dense.product_state(zero, dtype=dtype)
            state = dense.apply_brickwork(state, single.astype(dtype), pairs.astype(dtype))
            return jnp.real(dense.expectation_local(state, z_ops))
        state = product_state(zero, max_bond=cap, dtype=dtype)
        apply = evolve.apply_brickwork_real if real else evolve.apply_brickwork
        state = apply(state, single, pairs)
        return jnp.real(expectation_local(state, z_ops))

    return loss


def run_case(n: int, depth: int, chi: int, dtype_name: str, backend: str, repeats: int,
             full_cap: bool, single_gates: str = "ry", real_arithmetic: bool = True) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    if dtype_name in ("complex128", "float64"):
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(dtype_name)
    loss = brickwork_loss(n, depth, chi, dtype, backend, full_cap, single_gates,
                          real_arithmetic)
    step = jax.jit(jax.value_and_grad(loss))
    theta = jnp.asarray(np.random.default_rng(0).uniform(0, 2 * np.pi, (depth, n)),
                        jnp.finfo(dtype).dtype)
    t0 = time.perf_counter()
    value, grad = jax.block_until_ready(step(theta))
    compile_s = time.perf_counter() - t0
    times, cpu = [], []
    for k in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(step(theta + 1e-3 * (k + 1)))
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "depth": depth, "chi": chi, "full_cap": full_cap, "dtype": dtype_name,
            "backend": backend, "single_gates": single_gates,
            "real_arithmetic": real_arithmetic,
            "compile_s": compile_s, "step_s": statistics.median(times),
            "step_cpu_s": statistics.median(cpu), "peak_mb": peak_mb,
            "value": float(value), "grad_finite": bool(np.all(np.isfinite(np.asarray(grad))))}


def cpu_model() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine() -> dict:
    import jax

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "jax": jax.__version__}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[16, 64, 256, 1024])
    parser.add_argument("--depth", type=int, nargs="+", default=[8])
    parser.add_argument("--chi", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--dtype", default="complex64",
                        choices=["complex64", "complex128", "float32", "float64"])
    parser.add_argument("--backend", default="mps", choices=["mps", "dense"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full-cap", action="store_true",
                        help="pad every bond to chi even where the circuit cannot need it")
    parser.add_argument("--single", default="ry", choices=sorted(SINGLE_GATES),
                        help="single-qubit gates: ry (a real circuit) or rx_rz (complex)")
    parser.add_argument("--complex-arithmetic", action="store_true",
                        help="run a real circuit in the complex dtype as well")
    parser.add_argument("--budget", type=float, default=600.0,
                        help="seconds allowed per case; a case over budget is reported as such")
    parser.add_argument("--out", default="bench_results/bench_circuit.json")
    parser.add_argument("--case", help=argparse.SUPPRESS)   # internal: run one case, print JSON
    args = parser.parse_args(argv)

    if args.case:
        n, depth, chi = map(int, args.case.split(","))
        print(json.dumps(run_case(n, depth, chi, args.dtype, args.backend, args.repeats,
                                  args.full_cap, args.single, not args.complex_arithmetic)))
        return 0

    rows = []
    header = (f"{'n':>6} {'D':>3} {'chi':>4} {'compile s':>10} {'step s':>9} {'cpu s':>8} "
              f"{'peak MB':>8}  value")
    print(f"backend={args.backend} dtype={args.dtype} single={args.single} "
          f"complex_arithmetic={args.complex_arithmetic}")
    print(header)
    for n in args.n:
        for depth in args.depth:
            for chi in args.chi:
                cmd = [sys.executable, __file__, "--case", f"{n},{depth},{chi}",
                       "--dtype", args.dtype, "--backend", args.backend,
                       "--repeats", str(args.repeats), "--single", args.single]
                cmd += ["--full-cap"] if args.full_cap else []
                cmd += ["--complex-arithmetic"] if args.complex_arithmetic else []
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True,
                                          timeout=args.budget)
                except subprocess.TimeoutExpired:
                    rows.append({"n": n, "depth": depth, "chi": chi, "status": "over budget"})
                    print(f"{n:>6} {depth:>3} {chi:>4}  over the {args.budget:.0f} s budget")
                    continue
                if proc.returncode != 0:
                    lines = proc.stderr.strip().splitlines()
                    tail = [x for x in lines if "Error" in x][-1:] or lines[-1:] or ["?"]
                    rows.append({"n": n, "depth": depth, "chi": chi, "status": "failed",
                                 "error": tail[0]})
                    print(f"{n:>6} {depth:>3} {chi:>4}  failed: {tail[0]}")
                    continue
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(f"{n:>6} {depth:>3} {chi:>4} {row['compile_s']:>10.2f} "
                      f"{row['step_s']:>9.4f} {row['step_cpu_s']:>8.4f} {row['peak_mb']:>8.0f}  "
                      f"{row['value']:+.6f}",
                      flush=True)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"machine": machine(), "dtype": args.dtype, "backend": args.backend,
                   "single": args.single, "complex_arithmetic": args.complex_arithmetic,
                   "results": rows}, f, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
