"""Benchmark: how accurate is a single-precision MPS gradient?

Value + gradient of <Z_{n/2}> after an RY/CZ brickwork (the circuit of bench_circuit.py), run
in complex64 and compared with a complex128 reference:

* untruncated cases (bond cap = the circuit's bound): the reference is the exact complex128
  statevector (qtnet's dense backend);
* truncating cases (bond cap below the bound): the reference is the complex128 MPS at the
  same cap (the same algorithm in double precision).

Errors are relative 2-norms over the whole gradient, ``|g - g_ref| / |g_ref|``. The circuit is
real, so bench_circuit.py runs it in float32 (``evolve.apply_brickwork_real``); each case is
measured both ways (``arithmetic``: real = that path, complex = complex64 throughout), against
a complex128 reference in complex arithmetic. Prints a table and writes JSON.

    python scripts/bench_grad_precision.py                     # the issue's cases
    python scripts/bench_grad_precision.py --budget 600 --out docs/grad_precision.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# (n, depth, chi, reference): "dense" = exact statevector, "mps" = complex128 MPS, same cap.
CASES = [(12, 8, 16, "dense"), (16, 8, 16, "dense"), (16, 20, 32, "mps")]


def _value_and_grad(n, depth, chi, dtype, backend, real_arithmetic=False):
    import jax
    import jax.numpy as jnp
    import numpy as np

    sys.path.insert(0, HERE)
    from bench_circuit import brickwork_loss

    loss = brickwork_loss(n, depth, chi, jnp.dtype(dtype), backend, full_cap=True,
                          real_arithmetic=real_arithmetic)
    real = jnp.float64 if dtype == "complex128" else jnp.float32
    theta = jnp.asarray(np.random.default_rng(0).uniform(0, 2 * np.pi, (depth, n)), real)
    value, grad = jax.jit(jax.value_and_grad(loss))(theta)
    return float(value), np.asarray(grad, np.float64)


def run_case(n: int, depth: int, chi: int, reference: str, arithmetics) -> list[dict]:
    import numpy as np

    ref_value, ref_grad = _value_and_grad(n, depth, chi, "complex128", reference)
    rows = []
    for arithmetic in arithmetics:
        t0 = time.perf_counter()
        value, grad = _value_and_grad(n, depth, chi, "complex64", "mps", arithmetic == "real")
        err = float(np.linalg.norm(grad - ref_grad) / np.linalg.norm(ref_grad))
        rows.append({"n": n, "depth": depth, "chi": chi, "reference": reference,
                     "arithmetic": arithmetic, "value_err": abs(value - ref_value),
                     "grad_rel_err": err,
                     "grad_max_abs_err": float(np.max(np.abs(grad - ref_grad))),
                     "grad_finite": bool(np.all(np.isfinite(grad))), "value": value,
                     "seconds": time.perf_counter() - t0})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=900.0,
                        help="seconds for all cases; the cases left when it runs out are skipped")
    parser.add_argument("--out", default="docs/grad_precision.json")
    parser.add_argument("--arithmetic", nargs="+", default=["real", "complex"],
                        choices=["real", "complex"],
                        help="real: the float32 path bench_circuit.py takes; complex: complex64")
    parser.add_argument("--label", default="", help="a note stored with the results")
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    rows = []
    print(f"{'n':>4} {'D':>3} {'chi':>4} {'reference':>10} {'arith':>7} {'|dvalue|':>10} "
          f"{'grad rel err':>13} {'finite':>6} {'s':>6}")
    for n, depth, chi, reference in CASES:
        if time.perf_counter() - start > args.budget:
            rows.append({"n": n, "depth": depth, "chi": chi, "status": "skipped (budget)"})
            print(f"{n:>4} {depth:>3} {chi:>4} {reference:>10}  skipped: budget spent")
            continue
        for row in run_case(n, depth, chi, reference, args.arithmetic):
            rows.append(row)
            print(f"{n:>4} {depth:>3} {chi:>4} {reference:>10} {row['arithmetic']:>7} "
                  f"{row['value_err']:>10.2e} {row['grad_rel_err']:>13.2e} "
                  f"{str(row['grad_finite']):>6} {row['seconds']:>6.1f}", flush=True)
    result = {"label": args.label, "jax": jax.__version__, "rows": rows}
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
