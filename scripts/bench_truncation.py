"""Where does accuracy go when the bond cap binds? Per-gate truncation against an exact reference.

The RY/CZ brickwork of scripts/bench_circuit.py, complex128. Two measurements:

1. ``--per-gate`` (small n, a binding cap): each CZ is applied alone; before it the MPS is
   contracted to a dense vector, the gate applied exactly, and the Schmidt values of that
   exact vector across the gate's bond give the *optimal* discarded weight for a cap chi.
   Reported per run: the summed log-infidelity actually lost by qtnet's update (overlap of
   the truncated state with the exact post-gate state), the optimal one, qtnet's own
   estimate (``log_fidelity``), and the canonical-form drift (stored Schmidt values vs the
   true ones, right-orthonormality of the site tensors). Also with a full re-canonicalisation
   (:func:`qtnet.tn.canonicalize`) after every layer.
2. ``--accuracy`` (n = 16, D = 20): error of <Z_i> against the dense backend for every site i,
   for the normalised expectation (what qtnet returns) and for ``F <Z_i>`` (the unnormalised
   truncated state's value, F its squared norm: what quimb's ``CircuitMPS.local_expectation``
   returns, since quimb does not renormalise after a truncation). With ``--anchor-python``
   quimb ``CircuitMPS`` (numpy, cutoff 0, max_bond chi) is run on the same angles and both of
   its readings are reported.

    python scripts/bench_truncation.py --per-gate --n 12 --chi 4 8
    python scripts/bench_truncation.py --accuracy --n 16 --chi 16 32 \
        --anchor-python /work/anchors-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

DEPTH = 20

_QUIMB = r"""
import json, sys, numpy as np, quimb as qu, quimb.tensor as qtn
n, depth, chis = int(sys.argv[1]), int(sys.argv[2]), [int(c) for c in sys.argv[3].split(",")]
theta = np.random.default_rng(0).uniform(0, 2 * np.pi, (depth, n))
out = {}
for chi in chis:
    circ = qtn.CircuitMPS(n, max_bond=chi, cutoff=0.0, dtype="complex128")
    for layer in range(depth):
        for i in range(n):
            circ.apply_gate("RY", theta[layer, i], i)
        for i in range(layer % 2, n - 1, 2):
            circ.apply_gate("CZ", i, i + 1)
    raw = [float(np.real(circ.local_expectation(qu.pauli("Z"), i))) for i in range(n)]
    norm2 = float(np.real(circ.psi.H @ circ.psi))
    out[chi] = {"raw": raw, "norm2": norm2}
print(json.dumps(out))
"""


def _angles(n, depth):
    return np.random.default_rng(0).uniform(0, 2 * np.pi, (depth, n))


def _circuit(n, depth):
    import jax.numpy as jnp

    from qtnet.tn.gates import FIXED_2Q, ry

    single = ry(jnp.asarray(_angles(n, depth))).astype(jnp.complex128)   # [D, n, 2, 2]
    cz = jnp.asarray(FIXED_2Q["CZ"], jnp.complex128)
    return single, cz


def _exact_state(n, depth):
    import jax.numpy as jnp

    from qtnet.tn import dense

    single, cz = _circuit(n, depth)
    pairs = jnp.broadcast_to(cz, (depth, n // 2, 4, 4))
    state = dense.product_state(np.tile([1.0, 0.0], (n, 1)), dtype=jnp.complex128)
    return np.asarray(dense.apply_brickwork(state, single, pairs).amplitudes).reshape(-1)


def _schmidt(psi, n, bond):
    s = np.linalg.svd(psi.reshape(2 ** bond, 2 ** (n - bond)), compute_uv=False)
    return s / np.linalg.norm(s)


def per_gate(n: int, chi: int, depth: int) -> dict:
    import jax
    import jax.numpy as jnp

    from qtnet.tn import evolve
    from qtnet.tn.canonical import canonicalize
    from qtnet.tn.mps import product_state

    single, cz = _circuit(n, depth)
    gate = jax.jit(lambda s, i: evolve.apply_two_site_sequence(s, i[None], cz[None]))
    layer_1q = jax.jit(evolve.apply_single_site_layer)
    canon = jax.jit(lambda s: canonicalize(s)[0])
    out = {}
    for recanon in (False, True):
        state = product_state(np.tile([1.0, 0.0], (n, 1)), max_bond=chi, dtype=jnp.complex128)
        lost, optimal, drift_s, drift_b = 0.0, 0.0, 0.0, 0.0
        czn = np.asarray(cz).reshape(2, 2, 2, 2)
        for layer in range(depth):
            state = layer_1q(state, single[layer])
            for i in range(layer % 2, n - 1, 2):
                psi = np.asarray(state.to_dense())
                psi = psi / np.linalg.norm(psi)
                t = psi.reshape(2 ** i, 2, 2, -1)
                exact = np.einsum("xypq,apqb->axyb", czn, t).reshape(-1)
                p = _schmidt(exact, n, i + 1) ** 2
                optimal += np.log(np.sum(p[:chi]))
                state = gate(state, jnp.asarray(i, jnp.int32))
                new = np.asarray(state.to_dense())
                new = new / np.linalg.norm(new)
                lost += np.log(abs(np.vdot(new, exact)) ** 2)
            if recanon:
                state = canon(state)
            # Canonical-form drift after the layer: stored vs true Schmidt values, and
            # how far each B is from right-orthonormal (on the slots in use).
            psi = np.asarray(state.to_dense())
            psi = psi / np.linalg.norm(psi)
            sch = np.asarray(state.schmidt)
            for b in range(1, n):
                true = np.zeros(chi)
                top = _schmidt(psi, n, b)[:chi]
                true[:top.size] = top
                drift_s = max(drift_s, float(np.max(np.abs(np.sort(sch[b])[::-1] - true))))
            tens = np.asarray(state.tensors)
            for k in range(n):
                used = sch[k] > 1e-12
                gram = np.einsum("apr,bpr->ab", tens[k], tens[k].conj())[np.ix_(used, used)]
                drift_b = max(drift_b, float(np.max(np.abs(gram - np.eye(used.sum())))))
        out["recanonicalised" if recanon else "as is"] = {
            "log_fid_lost": float(lost), "log_fid_optimal": float(optimal),
            "log_fid_estimate": float(state.log_fidelity),
            "max_schmidt_drift": drift_s, "max_orthonormality_drift": drift_b}
    return out


def accuracy(n: int, chis, depth: int, anchor_python: str | None) -> dict:
    import jax
    import jax.numpy as jnp

    from qtnet.tn import evolve
    from qtnet.tn.contract import expectation_local
    from qtnet.tn.mps import product_state

    single, cz = _circuit(n, depth)
    pairs = jnp.broadcast_to(cz, (depth, n // 2, 4, 4))
    psi = _exact_state(n, depth)
    prob = np.abs(psi.reshape((2,) * n)) ** 2
    exact = np.array([np.sum(prob.sum(axis=tuple(j for j in range(n) if j != i))
                             * [1.0, -1.0]) for i in range(n)])
    z_ops = np.tile(np.eye(2), (n, n, 1, 1)).astype(complex)
    for i in range(n):
        z_ops[i, i] = np.diag([1.0, -1.0])
    quimb = {}
    if anchor_python:
        proc = subprocess.run([anchor_python, "-c", _QUIMB, str(n), str(depth),
                               ",".join(map(str, chis))], capture_output=True, text=True,
                              check=True)
        quimb = {int(k): v for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}

    @jax.jit
    def run(state):
        state = evolve.apply_brickwork(state, single, pairs)
        return jnp.real(expectation_local(state, jnp.asarray(z_ops))), state.fidelity_estimate

    rows = {}
    for chi in chis:
        state = product_state(np.tile([1.0, 0.0], (n, 1)), max_bond=chi, dtype=jnp.complex128)
        z, fid = map(np.asarray, run(state))
        row = {"exact_mid": float(exact[n // 2]),
               "qtnet": _errors(z, exact, n), "qtnet_F_scaled": _errors(fid * z, exact, n),
               "qtnet_fidelity_estimate": float(fid)}
        if chi in quimb:
            raw = np.asarray(quimb[chi]["raw"])
            row["quimb_raw"] = _errors(raw, exact, n)
            row["quimb_normalised"] = _errors(raw / quimb[chi]["norm2"], exact, n)
            row["quimb_norm2"] = quimb[chi]["norm2"]
        rows[chi] = row
    return rows


def _errors(values, exact, n):
    err = np.abs(np.asarray(values) - exact)
    return {"mid": float(err[n // 2]), "mean": float(err.mean()), "max": float(err.max())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-gate", action="store_true")
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--n", type=int, default=12)
    parser.add_argument("--depth", type=int, default=DEPTH)
    parser.add_argument("--chi", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--anchor-python", help="python with quimb, for the quimb columns")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    result = {"n": args.n, "depth": args.depth}
    if args.per_gate:
        result["per_gate"] = {}
        for chi in args.chi:
            r = per_gate(args.n, chi, args.depth)
            result["per_gate"][chi] = r
            for name, v in r.items():
                print(f"chi={chi:>3} {name:>16}: log F lost {v['log_fid_lost']:+.5f}  "
                      f"optimal {v['log_fid_optimal']:+.5f}  estimate {v['log_fid_estimate']:+.5f}"
                      f"  Schmidt drift {v['max_schmidt_drift']:.1e}  "
                      f"orthonormality drift {v['max_orthonormality_drift']:.1e}", flush=True)
    if args.accuracy:
        rows = accuracy(args.n, args.chi, args.depth, args.anchor_python)
        result["accuracy"] = rows
        for chi, row in rows.items():
            print(f"chi={chi:>3} exact <Z_{args.n // 2}> = {row['exact_mid']:+.6f}")
            for key in ("qtnet", "qtnet_F_scaled", "quimb_normalised", "quimb_raw"):
                if key in row:
                    e = row[key]
                    print(f"    {key:>17}: |err| at n/2 {e['mid']:.2e}   mean over sites "
                          f"{e['mean']:.2e}   max {e['max']:.2e}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
