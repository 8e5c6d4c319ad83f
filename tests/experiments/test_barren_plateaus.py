"""Barren-plateau diagnostics: closed forms at depth 1, MPS == dense, the exact (replica)
variance against the closed forms and an exact quadrature, global decays faster."""

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from qtnet.cli import main
from qtnet.experiments.barren_plateaus import (fit_slopes, gradient_samples,
                                               gradient_variance_sweep, gradients_at,
                                               ln_sample_variance)
from qtnet.experiments.gradient_moments import MAX_EXACT_DEPTH, exact_gradient_moments

jax.config.update("jax_enable_x64", True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sweep():
    return gradient_variance_sweep([2, 4, 6], [1], samples=48, seed=3)


def test_depth_one_gradients_match_the_closed_forms():
    s = gradient_samples(4, 1, 48, seed=3)          # the sweep's compiled point
    a = s["angles"][:, 0, :]
    # CZ is diagonal: dC_G/dtheta_0 = sin(theta_0)/2 prod_j>0 cos^2(theta_j/2), dC_L = sin/2n
    want_global = np.sin(a[:, 0]) / 2 * np.prod(np.cos(a[:, 1:] / 2) ** 2, axis=1)
    np.testing.assert_allclose(s["global"]["grad"], want_global, atol=1e-12)
    np.testing.assert_allclose(s["local"]["grad"], np.sin(a[:, 0]) / 8, atol=1e-12)
    np.testing.assert_allclose(s["fidelity"], 1.0, atol=1e-12)


@pytest.mark.parametrize("n", range(2, 9))
def test_exact_moments_match_the_closed_forms_at_depth_one(n):
    g, loc = exact_gradient_moments(n, 1, "global"), exact_gradient_moments(n, 1, "local")
    np.testing.assert_allclose(g["variance"], (3 / 8) ** (n - 1) / 8, rtol=1e-12)
    np.testing.assert_allclose(g["ln_variance"], np.log((3 / 8) ** (n - 1) / 8), rtol=1e-12)
    np.testing.assert_allclose(loc["variance"], 1 / (8 * n**2), rtol=1e-12)
    assert abs(g["mean"]) < 1e-15 and abs(loc["mean"]) < 1e-15


def quadrature_grid(n: int, depth: int) -> np.ndarray:
    """Every combination of 3 equally spaced angles per parameter: [3^(depth n), depth, n].
    dC/dtheta is a trig polynomial of degree 1 in every angle, its square of degree 2, so the
    mean over this grid is the integral over the angles: exact moments, no tolerance to guess."""
    grid = 2 * np.pi * np.arange(3) / 3
    return np.stack(np.meshgrid(*[grid] * (depth * n), indexing="ij"), -1).reshape(-1, depth, n)


# (1, 4): the odd chain's last site, alone in layer 0; the costs are symmetric under qubit
# permutations, so only a site paired in one brick offset and not in the other tells them apart
@pytest.fixture(scope="module")
def dense_grid():
    angles = quadrature_grid(5, 2)
    return angles, gradients_at(angles, backend="dense", parameter=(1, 4))


def check_quadrature(n, depth, parameter, grads):
    for cost in ("global", "local"):
        exact = exact_gradient_moments(n, depth, cost, parameter=parameter)
        g = grads[cost]["grad"]
        np.testing.assert_allclose(exact["second_moment"], np.mean(g**2), rtol=1e-10)
        np.testing.assert_allclose(exact["mean"], np.mean(g), atol=1e-12)
        assert exact["variance"] > 1e-4                    # not a trivial zero


def test_exact_moments_equal_a_quadrature_on_the_dense_backend(dense_grid):
    check_quadrature(5, 2, (1, 4), dense_grid[1])
    angles = quadrature_grid(4, 2)
    check_quadrature(4, 2, (0, 0), gradients_at(angles, backend="dense"))


def test_mps_equals_dense_at_depth_two(dense_grid):
    angles, dense = dense_grid[0][::50], dense_grid[1]
    mps = gradients_at(angles, backend="mps", parameter=(1, 4))
    for cost in ("global", "local"):
        np.testing.assert_allclose(mps[cost]["grad"], dense[cost]["grad"][::50], atol=1e-10)
        np.testing.assert_allclose(mps[cost]["value"], dense[cost]["value"][::50], atol=1e-10)
    assert np.ptp(mps["global"]["grad"]) > 1e-2           # not all zero
    np.testing.assert_allclose(mps["fidelity"], 1.0, atol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=1, depth=1), "n >= 2"),
    (dict(n=4, depth=0), "depth >= 1"),
    (dict(n=4, depth=MAX_EXACT_DEPTH + 1), "depth"),
    (dict(n=4, depth=2, parameter=(2, 0)), "outside"),
    (dict(n=4, depth=2, cost="energy"), "unknown cost"),
])
def test_exact_moments_refuse_bad_input(kwargs, message):
    kwargs = {"cost": "global", **kwargs}
    with pytest.raises(ValueError, match=message):
        exact_gradient_moments(kwargs.pop("n"), kwargs.pop("depth"), kwargs.pop("cost"),
                               **kwargs)


def test_ln_sample_variance_survives_underflow():
    g = np.array([3.0, -1.0, 2.0, 0.5]) * 1e-200          # Var ~ 1e-400: 0.0 in float64
    assert np.var(g, ddof=1) == 0.0
    want = np.log(np.var(g / 1e-200, ddof=1)) + 2 * np.log(1e-200)
    assert ln_sample_variance(g) == pytest.approx(want, rel=1e-12)
    fit = fit_slopes([8, 16, 32], ln_variances=[-1.0, -2.0, -np.inf])
    assert fit["per_qubit"] == pytest.approx(-1 / 8)       # the underflowed point left out


def test_global_cost_variance_decays_faster_than_local(sweep):
    var = {(p["cost"], p["qubits"]): p["variance"] for p in sweep["points"]}
    drop = {c: var[(c, 2)] / var[(c, 6)] for c in ("global", "local")}
    assert drop["global"] > 3 * drop["local"]                 # ~ (8/3)^4 = 50 against 9
    fits = {f["cost"]: f for f in sweep["fits"]}
    # closed forms: ln(3/8) = -0.98 per qubit (global); n^-2 (local)
    assert fits["global"]["per_qubit"] == pytest.approx(np.log(3 / 8), abs=0.25)
    assert fits["local"]["loglog"] == pytest.approx(-2.0, abs=0.4)
    # the exact variance lies on the closed forms: ln(3/8) per qubit, n^-2
    assert fits["global"]["exact_per_qubit"] == pytest.approx(np.log(3 / 8), abs=1e-9)
    assert fits["local"]["exact_loglog"] == pytest.approx(-2.0, abs=1e-9)


def test_fit_slopes_by_hand():
    n = np.array([8, 16, 32])
    fit = fit_slopes(n, 3.0 * np.exp(-0.5 * n))
    assert fit["per_qubit"] == pytest.approx(-0.5)
    assert fit_slopes(n, n ** -2.0)["loglog"] == pytest.approx(-2.0)


@pytest.mark.parametrize("setting, message", [
    ("qubits=", "qubits: empty sweep range"),
    ("depths=a,b", "depths: expected positive integers"),
    ("qubits=1,4", "qubits: expected every count >= 2"),
    ("depths=0", "depths: empty sweep range"),
    ("samples=1", "samples: expected a value >= 2"),
])
def test_bad_diagnose_configs_exit_2(setting, message, capsys):
    cfg = str(ROOT / "configs" / "diagnose" / "gradients.yaml")
    assert main(["diagnose", "gradients", "--config", cfg, "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qtnet diagnose: error: ") and message in err, err


def test_diagnose_gradients_command(tmp_path, capsys):
    cfg = str(ROOT / "configs" / "diagnose" / "gradients.yaml")
    assert main(["diagnose", "gradients", "--config", cfg, "--json", "--out", str(tmp_path),
                 "--set", "qubits=2,4", "--set", "depths=1", "--set", "samples=48"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {(p["cost"], p["qubits"]) for p in data["points"]} == {
        ("global", 2), ("global", 4), ("local", 2), ("local", 4)}
    assert (tmp_path / "gradients.png").stat().st_size > 0
    assert json.loads((tmp_path / "gradients.json").read_text())["fits"]
    for p in data["points"]:
        want = (3 / 8) ** (p["qubits"] - 1) / 8 if p["cost"] == "global" else 1 / (
            8 * p["qubits"] ** 2)
        assert p["exact_variance"] == pytest.approx(want, rel=1e-12)
