"""Bond cap against fidelity and predictions on the grid task: a fixed polynomial SIGN's
class predictions from hop features read out of a hop state built at bond cap chi, against
the same model on the hop state at the reference cap.

    python scripts/grid_chi_sweep.py [--qubits 24] [--chis 1,2,4,8,16,32] [--reference 64]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from qtnet import tn
from qtnet.gnn.synthetic import HopFeatures, grid_propagation_mpo, hop_state, node_bits
from qtnet.data.grid import FEATURE_QUBITS, TEACHER_HIDDEN, balancing_offsets
from qtnet.models.sign import SIGN


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=24)
    parser.add_argument("--chis", default="1,2,4,8,16,32")
    parser.add_argument("--reference", type=int, default=64)
    parser.add_argument("--nodes", type=int, default=4096)
    parser.add_argument("--feature-bond", type=int, default=4)
    parser.add_argument("--out", default="bench_results/grid_chi_sweep.json")
    args = parser.parse_args(argv)

    n, hops = args.qubits, 3
    t_mpo = grid_propagation_mpo(n // 2, jnp.float32)
    nodes = np.random.default_rng(0).integers(0, 2**n, args.nodes, dtype=np.int64)
    bits = jnp.asarray(node_bits(nodes, n))
    model = SIGN(2**FEATURE_QUBITS, 4, hops=hops, hidden=TEACHER_HIDDEN, dropout=0.0,
                 input_dropout=0.0, rngs=nnx.Rngs(params=1))

    def features(chi):
        x = tn.random_mps(jax.random.PRNGKey(0), n + FEATURE_QUBITS, args.feature_bond,
                          max_bond=max(chi, args.feature_bond), dtype=jnp.float32)
        start = time.perf_counter()
        phi = hop_state(t_mpo, x, hops, max_bond=chi)
        feats = HopFeatures(phi, n, 2, 2**FEATURE_QUBITS).of_bits(bits) * math.sqrt(2.0**n)
        feats.block_until_ready()
        return feats, float(phi.fidelity_estimate), time.perf_counter() - start

    ref, ref_fid, _ = features(args.reference)
    logits = np.asarray(model(ref)["logits"])
    offsets = balancing_offsets(logits)
    truth = np.argmax(logits + offsets, -1)
    rows = []
    print(f"{n} node qubits, reference bond {args.reference} (fidelity estimate {ref_fid:.6f})")
    print(f"{'chi':>4} {'fidelity':>10} {'agreement':>10} {'rel. feature error':>19} "
          f"{'seconds':>8}")
    for chi in map(int, args.chis.split(",")):
        feats, fid, seconds = features(chi)
        pred = np.argmax(np.asarray(model(feats)["logits"]) + offsets, -1)
        err = float(jnp.linalg.norm(feats - ref) / jnp.linalg.norm(ref))
        rows.append({"chi": chi, "fidelity": fid, "agreement": float(np.mean(pred == truth)),
                     "feature_error": err, "seconds": seconds})
        print(f"{chi:>4} {fid:>10.6f} {rows[-1]['agreement']:>10.4f} {err:>19.2e} "
              f"{seconds:>8.1f}", flush=True)
    from pathlib import Path

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
