"""Barren-plateau diagnostics: the variance of dC/dtheta over random initialisations, against
qubits and depth, for a global and a local cost on the ``ry_cz`` brickwork.

The circuit is |psi(theta)> = U_L ... U_1 |0...0>, layer l an RY on every qubit then CZ bricks
from site l mod 2 (:mod:`qtnet.tn.ansatz`), angles uniform in [0, 2 pi). The costs:

* global: C_G = 1 - |<0...0|psi>|^2 (McClean et al., Nature Comm. 2018; Cerezo et al., Nature
  Comm. 2021): its gradient variance decays exponentially in n at any depth;
* local: C_L = 1 - (1/n) sum_j |<0|_j psi|^2 = (1 - (1/n) sum_j <Z_j>) / 2 (Cerezo et al.):
  at most polynomial decay for depth O(log n).

The derivative is taken with respect to theta[0, 0] (first layer, qubit 0). At depth 1 both are
known in closed form (CZ is diagonal, so it changes neither cost):
dC_G/dtheta = sin(theta_0) / 2 * prod_{j>0} cos^2(theta_j / 2), Var = (1/8) (3/8)^(n-1), and
dC_L/dtheta = sin(theta_0) / (2n), Var = 1 / (8 n^2).

Each (n, depth) point is one jitted, vmapped ``value_and_grad`` on the chosen backend; on the
MPS backend the state's fidelity estimate is reported (exact for a bond cap of 2^ceil(L/2),
the brickwork's largest bond). Fits: ln Var against n (slope per qubit: exponential decay)
and against ln n (log-log slope: a power law).
"""

from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn import backends
from qtnet.tn.ansatz import brickwork_gates

COSTS = ("global", "local")


# Refuse a sweep point whose vmapped states and their reverse-mode residuals would need more:
# samples x depth x qubits x bond^2 x 2 x 8 bytes (float64) stands in for the program's peak.
MAX_POINT_BYTES = 2**33


def exact_bond(depth: int, n: int | None = None) -> int:
    """The largest bond of the ``ry_cz`` brickwork of ``depth`` layers from a product state:
    each cut is crossed by a CZ in every other layer (and no bond of ``n`` qubits exceeds
    2^(n/2))."""
    layers = (depth + 1) // 2
    return 2 ** (layers if n is None else min(layers, n // 2))


def check_sweep(qubits, depths, samples: int, backend: str, max_bond: int | None) -> None:
    """Refuse (``ValueError``) a sweep the backend cannot hold, before its first point runs."""
    be = backends.get(backend)
    be.check_sites(max(qubits))
    n, depth = max(qubits), max(depths)
    chi = min(max_bond or exact_bond(depth, n), exact_bond(depth, n))
    need = samples * depth * n * chi**2 * 2 * 8
    if need > MAX_POINT_BYTES:
        raise ValueError(f"the sweep's largest point (qubits {n}, depth {depth}, bond {chi}, "
                         f"{samples} samples) needs ~{need / 2**30:.3g} GiB of states, more "
                         f"than {MAX_POINT_BYTES // 2**30} GiB; lower qubits, depths, samples "
                         f"or max_bond")


def brickwork_state(backend, angles, n: int, *, max_bond: int, dtype):
    """U_L ... U_1 |0...0> for ``angles [depth, n]`` on ``backend``."""
    single, pairs = brickwork_gates(angles, "ry_cz", n)
    psi = backend.product_state("0" * n, max_bond=max_bond, dtype=dtype)
    return backend.apply_brickwork(psi, single.astype(dtype), pairs.astype(dtype),
                                   max_bond=max_bond)


def cost_value(backend, state, n: int, cost: str):
    """C_G = 1 - |<0|psi>|^2 / <psi|psi>, or C_L = (1 - mean_j <Z_j>) / 2."""
    if cost == "global":
        zero = backend.product_state("0" * n, dtype=state.dtype)
        amp = backend.overlap(zero, state)
        return 1.0 - jnp.real(amp * jnp.conj(amp)) / backend.norm(state) ** 2
    if cost == "local":
        z = backend.expectation_pauli(state, [(1.0 / n, f"Z{j}") for j in range(n)])
        return 0.5 * (1.0 - jnp.real(z))
    raise ValueError(f"unknown cost {cost!r}; choose one of {', '.join(COSTS)}")


def gradient_samples(n: int, depth: int, samples: int, *, costs=COSTS, seed: int = 0,
                     backend: str = "mps", max_bond: int | None = None,
                     dtype=jnp.float64) -> dict:
    """``samples`` random initialisations of the depth-``depth`` brickwork on ``n`` qubits,
    every cost's gradient from one compiled program.

    Returns:
      ``{"angles" [samples, depth, n], "fidelity" [samples], <cost>: {"grad" [samples]
      (dC/dtheta[0, 0]), "value" [samples]} for each cost}`` as numpy arrays.
    """
    if n < 2 or depth < 1 or samples < 2:
        raise ValueError(f"need n >= 2, depth >= 1 and samples >= 2; got n={n}, "
                         f"depth={depth}, samples={samples}")
    costs = tuple(costs)
    for cost in costs:
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; choose one of {', '.join(COSTS)}")
    chi = min(max_bond or exact_bond(depth, n), exact_bond(depth, n))
    step = compiled_gradients(n, depth, costs, backend, chi, jnp.dtype(dtype))
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 1000 * n + depth)
    angles = jax.random.uniform(key, (samples, depth, n), dtype, 0.0, 2 * math.pi)
    vals, grads, fidelity = step(angles)
    out = {"angles": np.asarray(angles), "fidelity": np.asarray(fidelity)}
    for i, cost in enumerate(costs):
        out[cost] = {"grad": np.asarray(grads[:, i, 0, 0]), "value": np.asarray(vals[:, i])}
    return out


@functools.lru_cache(maxsize=64)
def compiled_gradients(n: int, depth: int, costs: tuple[str, ...], backend: str, chi: int,
                       dtype):
    """The jitted, vmapped ``angles [B, depth, n] -> (costs [B, K], d costs [B, K, depth, n],
    fidelity [B])``, kept so that a repeated point does not recompile."""
    be = backends.get(backend)

    def state_of(angles):
        return brickwork_state(be, angles, n, max_bond=chi, dtype=dtype)

    def values(angles):
        state = state_of(angles)
        return jnp.stack([cost_value(be, state, n, c) for c in costs])

    def one(angles):
        return values(angles), jax.jacrev(values)(angles), be.fidelity(state_of(angles))

    return jax.jit(jax.vmap(one))


def fit_slopes(qubits, variances) -> dict:
    """Least-squares slopes of ln Var against n (per qubit) and against ln n (log-log)."""
    n = np.asarray(qubits, float)
    log_var = np.log(np.asarray(variances, float))
    if len(n) < 2:
        return {"per_qubit": None, "loglog": None}
    return {"per_qubit": float(np.polyfit(n, log_var, 1)[0]),
            "loglog": float(np.polyfit(np.log(n), log_var, 1)[0])}


def gradient_variance_sweep(qubits, depths, *, samples: int = 200, seed: int = 0,
                            backend: str = "mps", max_bond: int | None = None,
                            costs=COSTS, echo=None) -> dict:
    """Var[dC/dtheta[0, 0]] at every (cost, depth, n), with the fitted slopes per (cost, depth).

    Returns:
      ``{"points": [{"cost", "depth", "qubits", "variance", "mean", "fidelity_min",
      "seconds"}], "fits": [{"cost", "depth", "per_qubit", "loglog"}], "settings": {...}}``.
    """
    qubits, depths = sorted(set(qubits)), sorted(set(depths))
    if not qubits or not depths:
        raise ValueError(f"empty sweep: qubits {qubits}, depths {depths}")
    check_sweep(qubits, depths, samples, backend, max_bond)
    points = []
    for depth in depths:
        for n in qubits:
            start = time.perf_counter()
            s = gradient_samples(n, depth, samples, costs=costs, seed=seed, backend=backend,
                                 max_bond=max_bond)
            seconds = time.perf_counter() - start
            for cost in costs:
                point = {"cost": cost, "depth": depth, "qubits": n,
                         "variance": float(np.var(s[cost]["grad"], ddof=1)),
                         "mean": float(np.mean(s[cost]["grad"])),
                         "fidelity_min": float(np.min(s["fidelity"])), "seconds": seconds}
                points.append(point)
                if echo:
                    echo(f"{cost:>6} depth {depth} n {n:>4}: Var {point['variance']:.4g} "
                         f"(fidelity >= {point['fidelity_min']:.6g}, {seconds:.1f} s)")
    fits = []
    for cost in costs:
        for depth in depths:
            row = [p for p in points if p["cost"] == cost and p["depth"] == depth]
            fits.append({"cost": cost, "depth": depth,
                         **fit_slopes([p["qubits"] for p in row],
                                      [p["variance"] for p in row])})
    return {"points": points, "fits": fits,
            "settings": {"qubits": qubits, "depths": depths, "samples": samples, "seed": seed,
                         "backend": backend, "max_bond": max_bond, "parameter": "theta[0, 0]",
                         "ansatz": "ry_cz"}}


def write_outputs(result: dict, out_dir: str | Path) -> list[Path]:
    """``gradients.json`` and a log-log plot ``gradients.png`` of Var against n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gradients.json").write_text(json.dumps(result, indent=1))
    fig, ax = plt.subplots(figsize=(6, 4))
    for fit in result["fits"]:
        pts = [p for p in result["points"]
               if p["cost"] == fit["cost"] and p["depth"] == fit["depth"]]
        ax.loglog([p["qubits"] for p in pts], [p["variance"] for p in pts],
                  "o-" if fit["cost"] == "global" else "s--",
                  label=f"{fit['cost']}, L={fit['depth']}")
    ax.set_xlabel("qubits n")
    ax.set_ylabel("Var[dC/dtheta]")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "gradients.png", dpi=120)
    plt.close(fig)
    return [out / "gradients.json", out / "gradients.png"]


def summary_text(result: dict) -> str:
    """One line per (cost, depth): the variances and the fitted slopes."""
    lines = [f"{'cost':>6} {'depth':>5} {'per-qubit slope':>16} {'log-log slope':>14}  "
             f"Var at n = {', '.join(map(str, result['settings']['qubits']))}"]
    for fit in result["fits"]:
        var = [p["variance"] for p in result["points"]
               if p["cost"] == fit["cost"] and p["depth"] == fit["depth"]]
        slopes = [f"{v:.4g}" if v is not None else "-" for v in (fit["per_qubit"],
                                                                   fit["loglog"])]
        lines.append(f"{fit['cost']:>6} {fit['depth']:>5} {slopes[0]:>16} {slopes[1]:>14}  "
                     f"{', '.join(f'{v:.3g}' for v in var)}")
    return "\n".join(lines)
