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

Each (n, depth) point is sampled by one jitted, vmapped forward-mode derivative on the chosen
backend (compiled once per n and depth); on the MPS backend the state's fidelity estimate is
reported (exact for a bond cap of 2^ceil(L/2), the brickwork's largest bond). Beside it, the
exact variance over the angle distribution (:mod:`qtnet.experiments.gradient_moments`, a
replica contraction): the sampled global-cost variance is biased low at large n (see
:func:`gradient_variance_sweep`), the exact one is not. Fits: ln Var against n (slope per
qubit: exponential decay) and against ln n (log-log slope: a power law).
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

from qtnet.experiments.gradient_moments import MAX_EXACT_DEPTH, exact_gradient_moments
from qtnet.tn import backends
from qtnet.tn.ansatz import brickwork_gates
from qtnet.tn.mpo import MPO

COSTS = ("global", "local")


# Refuse a sweep point whose vmapped states (and their tangents) would need more: samples x
# depth x qubits x bond^2 x 2 x 8 bytes (float64), a generous stand-in for the program's peak.
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


def cost_value(backend, state, n: int, cost: str, z_sum: MPO | None = None):
    """C_G = 1 - |<0|psi>|^2 / <psi|psi>, or C_L = (1 - mean_j <Z_j>) / 2 (``z_sum``:
    :func:`local_z_sum`, built once per n)."""
    if cost == "global":
        zero = backend.product_state("0" * n, dtype=state.dtype)
        amp = backend.overlap(zero, state)
        return 1.0 - jnp.real(amp * jnp.conj(amp)) / backend.norm(state) ** 2
    if cost == "local":
        z_sum = local_z_sum(n, state.dtype) if z_sum is None else z_sum
        return 0.5 * (1.0 - jnp.real(backend.expectation_mpo(state, z_sum)) / n)
    raise ValueError(f"unknown cost {cost!r}; choose one of {', '.join(COSTS)}")


def local_z_sum(n: int, dtype) -> MPO:
    """sum_j Z_j as an MPO of bond 2 (row 0 enters, column 0 leaves; bond index 1 = "no Z
    yet", 0 = "Z placed"), so <C_L> costs one sweep instead of n."""
    eye, z = jnp.eye(2, dtype=dtype), jnp.diag(jnp.asarray([1.0, -1.0], dtype))
    zero = jnp.zeros((2, 2), dtype)
    # W [l, o, i, r]: 0 -> 0 identity (after the Z), 1 -> 1 identity (before), 1 -> 0 the Z
    w = jnp.stack([jnp.stack([eye, zero]), jnp.stack([z, eye])]).transpose(0, 2, 3, 1)
    first = jnp.zeros_like(w).at[0].set(w[1])             # the left end starts "no Z yet"
    return MPO(jnp.concatenate([first[None], jnp.broadcast_to(w, (n - 1,) + w.shape)]))


def gradients_at(angles, *, costs=COSTS, backend: str = "mps", max_bond: int | None = None,
                 parameter: tuple[int, int] = (0, 0), dtype=jnp.float64) -> dict:
    """Every cost and its derivative in ``angles[:, parameter]`` at each of the given
    initialisations ``angles [samples, depth, n]``, from one compiled program.

    Returns:
      ``{"fidelity" [samples], <cost>: {"grad" [samples], "value" [samples]}}``, numpy.
    """
    _, depth, n = angles.shape
    costs = tuple(costs)
    for cost in costs:
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; choose one of {', '.join(COSTS)}")
    chi = min(max_bond or exact_bond(depth, n), exact_bond(depth, n))
    step = compiled_gradients(n, depth, costs, backend, chi, jnp.dtype(dtype), tuple(parameter))
    vals, grads, fidelity = step(jnp.asarray(angles, dtype))
    out = {"fidelity": np.asarray(fidelity)}
    for i, cost in enumerate(costs):
        out[cost] = {"grad": np.asarray(grads[:, i]), "value": np.asarray(vals[:, i])}
    return out


def gradient_samples(n: int, depth: int, samples: int, *, costs=COSTS, seed: int = 0,
                     backend: str = "mps", max_bond: int | None = None,
                     dtype=jnp.float64) -> dict:
    """``samples`` random initialisations of the depth-``depth`` brickwork on ``n`` qubits
    (:func:`gradients_at` at angles uniform in [0, 2 pi)).

    Returns:
      ``{"angles" [samples, depth, n], "fidelity" [samples], <cost>: {"grad" [samples]
      (dC/dtheta[0, 0]), "value" [samples]} for each cost}`` as numpy arrays.
    """
    if n < 2 or depth < 1 or samples < 2:
        raise ValueError(f"need n >= 2, depth >= 1 and samples >= 2; got n={n}, "
                         f"depth={depth}, samples={samples}")
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 1000 * n + depth)
    angles = jax.random.uniform(key, (samples, depth, n), dtype, 0.0, 2 * math.pi)
    return {"angles": np.asarray(angles),
            **gradients_at(angles, costs=costs, backend=backend, max_bond=max_bond,
                           dtype=dtype)}


@functools.lru_cache(maxsize=64)
def compiled_gradients(n: int, depth: int, costs: tuple[str, ...], backend: str, chi: int,
                       dtype, parameter: tuple[int, int] = (0, 0)):
    """The jitted, vmapped ``angles [B, depth, n] -> (costs [B, K], d costs / d angles[
    parameter] [B, K], fidelity [B])``, kept so that a repeated point does not recompile.

    One forward-mode pass (``jax.jvp`` along the one angle): no reverse-mode residuals, and
    the local cost is one MPO expectation (bond 2), so a sample costs O(n) at any n.
    """
    be = backends.get(backend)
    z_sum = local_z_sum(n, dtype) if "local" in costs else None
    tangent = jnp.zeros((depth, n), dtype).at[parameter].set(1.0)

    def values(angles):
        state = brickwork_state(be, angles, n, max_bond=chi, dtype=dtype)
        return jnp.stack([cost_value(be, state, n, c, z_sum) for c in costs]), be.fidelity(state)

    def one(angles):
        (vals, fidelity), (grads, _) = jax.jvp(values, (angles,), (tangent,))
        return vals, grads, fidelity

    return jax.jit(jax.vmap(one))


def ln_sample_variance(grads) -> float:
    """ln of the unbiased sample variance, computed on ``grads / max |grads|`` so that a
    variance below 1e-308 (global cost, hundreds of qubits) still has a logarithm."""
    g = np.asarray(grads, float)
    peak = np.max(np.abs(g))
    if peak == 0.0 or not np.isfinite(peak):
        return -math.inf if peak == 0.0 else math.nan
    return 2 * math.log(peak) + math.log(np.var(g / peak, ddof=1))


def fit_slopes(qubits, variances=None, *, ln_variances=None) -> dict:
    """Least-squares slopes of ln Var against n (per qubit) and against ln n (log-log);
    points whose ln Var is not finite (an underflowed sample variance) are left out."""
    log_var = (np.log(np.asarray(variances, float)) if ln_variances is None
               else np.asarray(ln_variances, float))
    keep = np.isfinite(log_var)
    n, log_var = np.asarray(qubits, float)[keep], log_var[keep]
    if len(n) < 2:
        return {"per_qubit": None, "loglog": None}
    return {"per_qubit": float(np.polyfit(n, log_var, 1)[0]),
            "loglog": float(np.polyfit(np.log(n), log_var, 1)[0])}


def gradient_variance_sweep(qubits, depths, *, samples: int = 200, seed: int = 0,
                            backend: str = "mps", max_bond: int | None = None,
                            costs=COSTS, echo=None) -> dict:
    """Var[dC/dtheta[0, 0]] at every (cost, depth, n): sampled over ``samples`` random
    initialisations (what a user measures) and exact (:mod:`gradient_moments`, for depth <=
    ``MAX_EXACT_DEPTH``), with the fitted slopes of both per (cost, depth).

    The sampled variance of the global cost is biased low at large n: its gradient is a
    product of n independent factors whose mean square is carried by rare samples, so a few
    hundred samples follow the typical (median-like) size, not the mean.

    Returns:
      ``{"points": [{"cost", "depth", "qubits", "variance", "ln_variance", "mean",
      "exact_variance", "exact_ln_variance", "exact_mean", "fidelity_min", "seconds",
      "exact_seconds"}], "fits": [{"cost", "depth", "per_qubit", "loglog", "exact_per_qubit",
      "exact_loglog"}], "settings": {...}}``.
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
                start = time.perf_counter()
                exact = (exact_gradient_moments(n, depth, cost) if depth <= MAX_EXACT_DEPTH
                         else {"variance": None, "ln_variance": None, "mean": None})
                point = {"cost": cost, "depth": depth, "qubits": n,
                         "variance": float(np.var(s[cost]["grad"], ddof=1)),
                         "ln_variance": ln_sample_variance(s[cost]["grad"]),
                         "mean": float(np.mean(s[cost]["grad"])),
                         "exact_variance": exact["variance"],
                         "exact_ln_variance": exact["ln_variance"],
                         "exact_mean": exact["mean"],
                         "fidelity_min": float(np.min(s["fidelity"])), "seconds": seconds,
                         "exact_seconds": time.perf_counter() - start}
                points.append(point)
                if echo:
                    ex = ("" if exact["ln_variance"] is None else
                          f", exact ln Var {exact['ln_variance']:.4g}")
                    echo(f"{cost:>6} depth {depth} n {n:>4}: ln Var {point['ln_variance']:.4g}"
                         f"{ex} (fidelity >= {point['fidelity_min']:.6g}, {seconds:.1f} s)")
    fits = []
    for cost in costs:
        for depth in depths:
            row = [p for p in points if p["cost"] == cost and p["depth"] == depth]
            sampled = fit_slopes([p["qubits"] for p in row],
                                 ln_variances=[p["ln_variance"] for p in row])
            exact = ({"per_qubit": None, "loglog": None} if depth > MAX_EXACT_DEPTH else
                     fit_slopes([p["qubits"] for p in row],
                                ln_variances=[p["exact_ln_variance"] for p in row]))
            fits.append({"cost": cost, "depth": depth, **sampled,
                         "exact_per_qubit": exact["per_qubit"],
                         "exact_loglog": exact["loglog"]})
    return {"points": points, "fits": fits,
            "settings": {"qubits": qubits, "depths": depths, "samples": samples, "seed": seed,
                         "backend": backend, "max_bond": max_bond, "parameter": "theta[0, 0]",
                         "ansatz": "ry_cz"}}


def write_outputs(result: dict, out_dir: str | Path) -> list[Path]:
    """``gradients.json`` and a plot ``gradients.png`` of log10 Var: the global cost against
    n (an exponential is a line), the local one against log n (a power law is a line); exact
    lines, sampled markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gradients.json").write_text(json.dumps(result, indent=1))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, cost in zip(axes, COSTS):
        for i, fit in enumerate(f for f in result["fits"] if f["cost"] == cost):
            pts = [p for p in result["points"]
                   if p["cost"] == cost and p["depth"] == fit["depth"]]
            n = [p["qubits"] for p in pts]
            color = f"C{i}"
            if all(p["exact_ln_variance"] is not None for p in pts):
                ax.plot(n, [p["exact_ln_variance"] / math.log(10) for p in pts], "-",
                        color=color, label=f"L={fit['depth']} exact")
            ax.plot(n, [p["ln_variance"] / math.log(10) for p in pts], "o", mfc="none",
                    color=color, label=f"L={fit['depth']} sampled "
                                       f"({result['settings']['samples']})")
        if cost == "local":                                 # a power law is a line here
            ax.set_xscale("log", base=2)
        ax.set_xlabel("qubits n")
        ax.set_ylabel("log10 Var[dC/dtheta]")
        ax.set_title(f"{cost} cost")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "gradients.png", dpi=120)
    plt.close(fig)
    return [out / "gradients.json", out / "gradients.png"]


def summary_text(result: dict) -> str:
    """One line per (cost, depth): the fitted slopes (exact / sampled) and ln Var per n."""
    def num(v, fmt=".4g"):
        return "-" if v is None or not math.isfinite(v) else format(v, fmt)

    lines = [f"{'cost':>6} {'depth':>5} {'ln Var per qubit':>20} {'log-log slope':>18}  "
             f"ln Var exact / sampled at n = "
             f"{', '.join(map(str, result['settings']['qubits']))}",
             f"{'':>12} {'exact / sampled':>20} {'exact / sampled':>18}"]
    for fit in result["fits"]:
        pts = [p for p in result["points"]
               if p["cost"] == fit["cost"] and p["depth"] == fit["depth"]]
        per_qubit = f"{num(fit['exact_per_qubit'])} / {num(fit['per_qubit'])}"
        loglog = f"{num(fit['exact_loglog'])} / {num(fit['loglog'])}"
        values = ", ".join(f"{num(p['exact_ln_variance'], '.1f')}/{num(p['ln_variance'], '.1f')}"
                           for p in pts)
        lines.append(f"{fit['cost']:>6} {fit['depth']:>5} {per_qubit:>20} {loglog:>18}  "
                     f"{values}")
    return "\n".join(lines)
