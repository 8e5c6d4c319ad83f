"""The dense side of the grid task: how large a periodic grid's SIGN hop state
sum_k |k> T^k |X> can be held as a statevector on this machine.

    python scripts/bench_grid_dense.py [--qubits 20,22,24,26] [--budget 600]

Each size runs in its own process (numpy, float32, 8 features, hops 0..3; T applied as four
periodic rolls of the 2^(n/2) x 2^(n/2) grid plus the self-loop) and reports wall time and
peak memory; a size whose state would not fit in the machine's memory is reported as such
rather than attempted. The MPS side is ``python -m train --config configs/grid_2e32.yaml``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

FEATURES, HOPS = 8, 3


def one(n: int) -> dict:
    import numpy as np

    side = 2 ** (n // 2)
    start = time.perf_counter()
    x = np.random.default_rng(0).standard_normal((side, side, FEATURES), dtype=np.float32)
    state = np.empty((HOPS + 1, side, side, FEATURES), np.float32)    # [hop, x, y, feature]
    state[0] = x
    for k in range(1, HOPS + 1):
        prev = state[k - 1]
        out = prev.copy()
        for axis in (0, 1):
            out += np.roll(prev, 1, axis) + np.roll(prev, -1, axis)
        state[k] = out / 5
    return {"qubits": n, "seconds": time.perf_counter() - start,
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "state_gb": state.nbytes / 2**30}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", default="20,22,24,26,28")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one(args.one)))
        return
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    for n in map(int, args.qubits.split(",")):
        need = 2**n * (HOPS + 1 + 3) * FEATURES * 4 / 2**30     # state + x + two rolls
        if need > 0.9 * memory_gb:
            print(f"{n} node qubits: needs ~{need:.0f} GB, machine has {memory_gb:.0f} GB: "
                  f"not attempted")
            continue
        try:
            out = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True,
                                 capture_output=True, text=True, timeout=args.budget)
            r = json.loads(out.stdout)
            print(f"{n} node qubits: {r['seconds']:.1f} s, state {r['state_gb']:.2f} GB, "
                  f"peak {r['peak_gb']:.2f} GB", flush=True)
        except subprocess.TimeoutExpired:
            print(f"{n} node qubits: over the {args.budget:.0f} s budget")
        except subprocess.CalledProcessError as err:
            print(f"{n} node qubits: failed ({err.stderr.strip().splitlines()[-1]})")


if __name__ == "__main__":
    main()
