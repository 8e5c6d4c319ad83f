"""Expressivity against depth: the degree in its input of the deep polynomial model
(:mod:`qtnet.gnn.deep`), measured, for L = 1 ... 4 layers (the paper's claim: 2^L).

Two measurements of the logits z(t x) along a ray t x through a random input x, on the plain
dense reference (:func:`qtnet.gnn.deep.dense_logits`, float64):

* the log-log slope d ln|z| / d ln t between t = 1e2 and 1e3, where the leading power
  dominates;
* the polynomial degree: z(t) sampled at Chebyshev points of [-R, R] (R = 100, so that the
  top power is not buried under rounding as the c2^(2^L - 1) factor shrinks it on [-1, 1])
  and fitted by a Chebyshev series of degree 2^(L+1); the degree is the highest coefficient
  above ``tol`` x the largest one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.gnn.deep import dense_logits, init_params


def logits_along_ray(params: dict, x: np.ndarray, t: np.ndarray, n_classes: int) -> np.ndarray:
    """``[T, C]`` logits of the inputs ``t[i] * x`` (``x [2^k]``)."""
    return np.asarray(dense_logits(params, np.asarray(t)[:, None] * x[None, :], n_classes))


def measured_degree(params: dict, x: np.ndarray, n_classes: int, *,
                    max_degree: int, tol: float = 1e-9, radius: float = 100.0) -> dict:
    """``{"slope": d ln|z| / d ln t at large t (largest over classes), "fit_degree"}``."""
    big = logits_along_ray(params, x, np.array([1e2, 1e3]), n_classes)
    slopes = np.log(np.abs(big[1]) / np.abs(big[0])) / np.log(10.0)
    m = max_degree + 1
    t = np.cos(np.pi * (np.arange(2 * m) + 0.5) / (2 * m))         # Chebyshev points
    z = logits_along_ray(params, x, radius * t, n_classes)
    degrees = []
    for c in range(n_classes):
        coef = np.polynomial.chebyshev.chebfit(t, z[:, c], max_degree)
        keep = np.nonzero(np.abs(coef) > tol * np.max(np.abs(coef)))[0]
        degrees.append(int(keep.max()) if keep.size else 0)
    return {"slope": float(np.max(slopes)), "fit_degree": int(max(degrees))}


def random_input(rest_qubits: int, seed: int) -> np.ndarray:
    """A unit vector ``[2^rest_qubits]``: the direction of the ray."""
    x = np.array(jax.random.normal(jax.random.PRNGKey(seed + 99), (2**rest_qubits,),
                                   jnp.float64))
    return x / np.linalg.norm(x)


def degree_table(layers=(1, 2, 3, 4), *, rest_qubits: int = 3, n_classes: int = 4,
                 seed: int = 0) -> list[dict]:
    """One row per depth L: the expected degree 2^L, the log-log slope, the fitted degree.

    Parameters are the model's initialisation (random near-identity MPO layers, the paper's
    polynomial coefficients): the degree is structural, so no training is needed to see it.
    Needs ``jax_enable_x64``.
    """
    if not jax.config.jax_enable_x64:
        raise ValueError("degree_table needs float64: jax.config.update('jax_enable_x64', True)")
    rows = []
    x = random_input(rest_qubits, seed)
    for L in layers:
        params = init_params(jax.random.PRNGKey(seed + L), L, rest_qubits)
        got = measured_degree(params, x, n_classes, max_degree=2 ** (L + 1))
        rows.append({"layers": L, "expected": 2**L, **got})
    return rows


def plot_rays(layers, path, *, rest_qubits: int = 3, n_classes: int = 4, seed: int = 0):
    """Log-log plot of max_c |z_c(t x)| against t for each depth, with t^(2^L) guides."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, t = random_input(rest_qubits, seed), np.logspace(-1, 3, 60)
    fig, ax = plt.subplots(figsize=(5, 4))
    for L in layers:
        params = init_params(jax.random.PRNGKey(seed + L), L, rest_qubits)
        z = np.max(np.abs(logits_along_ray(params, x, t, n_classes)), axis=1)
        line, = ax.loglog(t, z, label=f"L = {L}")
        ax.loglog(t[-20:], z[-1] * (t[-20:] / t[-1]) ** (2**L), ":", color=line.get_color())
    ax.set_xlabel("input scale t")
    ax.set_ylabel("max_c |z_c(t x)|  (dotted: t^(2^L))")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
