"""Profile the compiled value+grad step of the brickwork benchmark: where its time goes.

Runs ``scripts/bench_circuit.py``'s loss (RY/CZ brickwork, bond padded to chi everywhere)
under ``jax.profiler``, then sums the trace's XLA operations per step and per kind: LAPACK
(SVD, QR), matmuls, fusions and the data movement of the reverse-mode scan. Run it
single-threaded for steady figures:

    OPENBLAS_NUM_THREADS=1 XLA_FLAGS=--xla_cpu_multi_thread_eigen=false \\
        python scripts/profile_step.py --n 16 32 --depth 20 --chi 32
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LAPACK = ("svd", "geqrf", "householder_product", "eigh", "syevd", "heevd")


def op_kind(name: str) -> str:
    """``dot.134`` -> ``dot``; ``copy_bitcast_fusion.23`` -> ``copy``."""
    base = name.split(".")[0]
    return base if base in LAPACK else base.split("_")[0]


def profile(n: int, depth: int, chi: int, dtype: str, repeats: int, real: bool) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from bench_circuit import brickwork_loss

    loss = brickwork_loss(n, depth, chi, getattr(jnp, dtype), full_cap=True,
                          real_arithmetic=real)
    step = jax.jit(jax.value_and_grad(loss))
    theta = jnp.asarray(np.random.default_rng(0).uniform(0, 2 * np.pi, (depth, n)), jnp.float32)
    for _ in range(2):                                   # compile, then one warm step
        jax.block_until_ready(step(theta))
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        jax.block_until_ready(step(theta))
    wall, cpu = (time.perf_counter() - wall) / repeats, (time.process_time() - cpu) / repeats
    with tempfile.TemporaryDirectory() as folder:
        with jax.profiler.trace(folder, create_perfetto_trace=True):
            for _ in range(repeats):
                jax.block_until_ready(step(theta))
        path = glob.glob(f"{folder}/**/*perfetto_trace.json.gz", recursive=True)[0]
        with gzip.open(path) as f:
            events = json.load(f)
    events = events["traceEvents"] if isinstance(events, dict) else events
    ms = collections.defaultdict(float)
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            ms[e["name"]] += e["dur"] / repeats / 1000
    kinds = collections.defaultdict(float)
    for name, t in ms.items():
        # XLA ops are named "<kind>.<k>" or "<kind>"; loops (while) contain the others.
        if "." in name and not name.startswith(("while", "$", "Thunk", "Pjit")) and \
                ":" not in name:
            kinds[op_kind(name)] += t
    return {"n": n, "depth": depth, "chi": chi, "dtype": dtype, "real_arithmetic": real,
            "step_ms": 1e3 * wall, "step_cpu_ms": 1e3 * cpu, "ops_ms": sum(kinds.values()),
            "kinds_ms": dict(sorted(kinds.items(), key=lambda kv: -kv[1]))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[16])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--chi", type=int, default=32)
    parser.add_argument("--dtype", default="complex64")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--complex-arithmetic", action="store_true",
                        help="run the real circuit in the complex dtype")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    rows = [profile(n, args.depth, args.chi, args.dtype, args.repeats,
                    not args.complex_arithmetic) for n in args.n]
    for row in rows:
        kinds = row["kinds_ms"]
        lapack = sum(t for k, t in kinds.items() if k in LAPACK)
        print(f"n = {row['n']}: step {row['step_ms']:.1f} ms wall, {row['step_cpu_ms']:.1f} ms "
              f"CPU (untraced); traced XLA ops {row['ops_ms']:.1f} ms, of which LAPACK "
              f"{lapack:.1f} ms ({100 * lapack / row['ops_ms']:.0f} %)")
        for kind, t in list(kinds.items())[:10]:
            print(f"    {kind:22s} {t:7.1f} ms")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
