"""Benchmark: one MPS split over several host devices against the same state on one device.

Value + gradient of a Pauli sum after an RY/CZ brickwork (``qtnet.tn.sharded`` against
``qtnet.tn.apply_brickwork`` / ``expectation_pauli``), per dtype: the differences of value and
gradient, the bytes each device holds of the state (its arrays' addressable shards), the
compiled programs' memory analysis (per device), compile and step time. Prints a table and
writes JSON.

    python scripts/bench_sharded.py                                # n = 4096, D = 8, chi = 32
    python scripts/bench_sharded.py --n 512 --dtypes float32 --budget 600
    python scripts/bench_sharded.py --compile-only       # bytes and memory analysis only

The host devices come from ``XLA_FLAGS=--xla_force_host_platform_device_count`` (set here from
``--devices`` unless already given). On one CPU the devices share its cores: times say nothing
about speed-up, only the equality and the bytes per device are the point.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4096, help="sites")
    ap.add_argument("--depth", type=int, default=8, help="brickwork layers D")
    ap.add_argument("--chi", type=int, default=32, help="bond cap")
    ap.add_argument("--devices", type=int, default=4, help="host devices to split over")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--budget", type=float, default=3600.0,
                    help="seconds; a dtype is not started once this much time has passed")
    ap.add_argument("--compile-only", action="store_true",
                    help="compile and report bytes and memory analysis, run nothing")
    ap.add_argument("--out", default="bench_sharded.json")
    return ap.parse_args(argv)


def memory(compiled) -> dict:
    """Per-device figures of a compiled program's memory analysis (empty if unavailable)."""
    stats = compiled.memory_analysis()
    if stats is None:
        return {}
    keys = ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes",
            "alias_size_in_bytes")
    out = {k.removesuffix("_size_in_bytes"): int(getattr(stats, k)) for k in keys}
    out["peak"] = out["argument"] + out["output"] + out["temp"] - out["alias"]
    return out


def run_dtype(args, dtype_name: str) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from qtnet.tn import apply_brickwork, expectation_pauli, product_state, sharded
    from qtnet.tn.ansatz import brickwork_gates

    n, dtype = args.n, jnp.dtype(dtype_name)
    mesh = sharded.site_mesh(jax.devices()[:args.devices])
    observable = [(1.0, f"Z{n // 2}"), (0.5, f"X{n // 4 - 1} X{n // 4}")]   # one on a boundary
    theta = jnp.asarray(np.random.default_rng(0).uniform(0, 2 * np.pi, (args.depth, n)),
                        jnp.finfo(dtype).dtype)
    start = product_state(np.tile([1.0, 0.0], (n, 1)), max_bond=args.chi, dtype=dtype)
    split = sharded.shard_mps(start, mesh)

    def one_device(t, state):
        single, pairs = brickwork_gates(t, "ry_cz", n)
        state = apply_brickwork(state, single.astype(dtype), pairs.astype(dtype))
        return expectation_pauli(state, observable)

    def split_devices(t, state):
        single, pairs = brickwork_gates(t, "ry_cz", n)
        state = sharded.apply_brickwork(state, single.astype(dtype), pairs.astype(dtype), mesh)
        return sharded.expectation_pauli(state, observable, mesh)

    row = {"dtype": dtype_name, "n": n, "depth": args.depth, "chi": args.chi,
           "devices": args.devices}
    results = {}
    for name, fn, state in (("one", one_device, start), ("split", split_devices, split)):
        t0 = time.perf_counter()
        compiled = jax.jit(jax.value_and_grad(fn)).lower(theta, state).compile()
        row[f"{name}_compile_s"] = time.perf_counter() - t0
        row[f"{name}_memory"] = memory(compiled)
        if args.compile_only:
            continue
        t0 = time.perf_counter()
        value, grad = jax.block_until_ready(compiled(theta, state))
        row[f"{name}_step_s"] = time.perf_counter() - t0
        results[name] = (float(value), np.asarray(grad, np.float64))
    if results:
        (v1, g1), (v2, g2) = results["one"], results["split"]
        row.update(value=v1, value_diff=abs(v1 - v2), grad_norm=float(np.linalg.norm(g1)),
                   grad_max_diff=float(np.max(np.abs(g1 - g2))),
                   grad_rel_diff=float(np.linalg.norm(g1 - g2) / np.linalg.norm(g1)))
    # Bytes of the state: the whole pytree on one device, the largest device's share split.
    row["state_bytes_one"] = sum(leaf.nbytes for leaf in jax.tree.leaves(start))
    held = sharded.bytes_per_device(split)
    row["state_bytes_per_device"] = max(held.values())
    row["state_fraction"] = row["state_bytes_per_device"] / row["state_bytes_one"]
    one, spl = row["one_memory"], row["split_memory"]
    if one and spl:
        row["peak_fraction"] = spl["peak"] / one["peak"]
    return row


def main(argv=None):
    args = parse_args(argv)
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = (f"{flags} --xla_force_host_platform_device_count="
                                   f"{args.devices}").strip()
    import jax

    jax.config.update("jax_enable_x64", True)
    if len(jax.devices()) < args.devices:
        raise SystemExit(f"{args.devices} devices asked for, JAX has {len(jax.devices())} "
                         "(XLA_FLAGS already set to fewer?)")
    t_start, rows = time.perf_counter(), []
    for dtype in args.dtypes.split(","):
        if time.perf_counter() - t_start > args.budget:
            rows.append({"dtype": dtype, "n": args.n, "skipped": f"budget {args.budget} s"})
            continue
        rows.append(run_dtype(args, dtype))
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'dtype':8} {'n':>5} {'|dv|':>9} {'|dg|max':>9} {'state/dev':>9} "
          f"{'peak/dev':>9} {'compile 1/P':>13} {'step 1/P':>13}")
    for r in rows:
        if "skipped" in r:
            print(f"{r['dtype']:8} {r['n']:>5} skipped: {r['skipped']}")
            continue
        nan = float("nan")
        print(f"{r['dtype']:8} {r['n']:>5} {r.get('value_diff', nan):9.1e} "
              f"{r.get('grad_max_diff', nan):9.1e} {r['state_fraction']:9.1%} "
              f"{r.get('peak_fraction', nan):9.1%} "
              f"{r['one_compile_s']:6.1f}/{r['split_compile_s']:<6.1f} "
              f"{r.get('one_step_s', nan):6.1f}/{r.get('split_step_s', nan):<6.1f}")
    with open(args.out, "w") as f:
        json.dump({"args": vars(args), "jax": jax.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
