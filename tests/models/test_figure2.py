"""The Figure 2 classifier: MPS = dense = a numpy statevector reference (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st

from qtnet import tn
from qtnet.models import Figure2Classifier, register_size
from qtnet.tn import dense
from qtnet.tn.gates import FIXED_2Q, ry, su4
from tests.helpers import apply_dense

N_FEATURES, N_CLASSES, LAYERS, DEPTH = 13, 3, 2, 2      # 4 qubits, 2 class qubits


def _model(backend, ansatz="ry_cz", dtype="float64", seed=0, scale=1.0):
    layers, depth = (LAYERS, DEPTH) if ansatz == "ry_cz" else (1, 1)   # su4: costly compile
    return Figure2Classifier(N_FEATURES, N_CLASSES, layers=layers, depth=depth, ansatz=ansatz,
                             backend=backend, dtype=dtype, init_scale=scale,
                             rngs=nnx.Rngs(params=seed))


def _brickwork_dense(psi, angles, ansatz, n):
    for layer, a in enumerate(np.asarray(angles)):
        if ansatz == "ry_cz":
            for q in range(n):
                psi = apply_dense(psi, np.asarray(ry(a[q])), [q], n)
        start = layer % 2
        for k, q in enumerate(range(start, n - 1, 2)):
            gate = FIXED_2Q["CZ"] if ansatz == "ry_cz" else np.asarray(su4(a[k]))
            psi = apply_dense(psi, gate, [q, q + 1], n)
    return psi


def reference_probabilities(model, x, n_classes=N_CLASSES):
    """Statevector reference: B_1, A_1, ..., then the class-register marginal."""
    n = model.n_qubits
    psi = np.zeros(2**n, complex)
    psi[: len(x)] = x / np.linalg.norm(x)
    for a, b in zip(np.asarray(model.alice[...]), np.asarray(model.bob[...])):
        psi = _brickwork_dense(psi, b, model.ansatz, n)
        psi = _brickwork_dense(psi, a, model.ansatz, n)
    probs = (np.abs(psi) ** 2).reshape(2**model.class_qubits, -1).sum(1)[:n_classes]
    return probs / probs.sum()


def test_register_size():
    assert register_size(64, 10) == 6 and register_size(13, 3) == 4
    assert register_size(2, 2) == 2 and register_size(3, 40) == 6


_logits = {}


def _logits_fn(backend, ansatz, dtype):
    """One compiled forward per (backend, ansatz); parameters are an argument."""
    key = (backend, ansatz, dtype)
    if key not in _logits:
        graphdef, _ = nnx.split(_model(backend, ansatz, dtype), nnx.Param)
        _logits[key] = jax.jit(lambda p, x: nnx.merge(graphdef, p)(x)["logits"])
    return _logits[key]


@given(seed=st.integers(0, 2**31 - 1))
def test_mps_and_dense_match_the_statevector_reference(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, N_FEATURES))
    model = _model("mps", seed=seed % 1000)
    params = nnx.to_pure_dict(nnx.state(model, nnx.Param))
    want = np.log(np.stack([reference_probabilities(model, xi) for xi in x]))
    for backend in ("mps", "dense"):
        got = _logits_fn(backend, "ry_cz", "float64")(params, jnp.asarray(x))
        np.testing.assert_allclose(got, want, atol=1e-10)


def test_su4_ansatz_matches_the_reference_and_gradients_agree():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, N_FEATURES))
    model = _model("mps", "su4", "complex128", seed=3)
    params = nnx.to_pure_dict(nnx.state(model, nnx.Param))
    want = np.log(np.stack([reference_probabilities(model, xi) for xi in x]))
    grads = []
    for backend in ("mps", "dense"):
        f = _logits_fn(backend, "su4", "complex128")
        np.testing.assert_allclose(f(params, jnp.asarray(x)), want, atol=1e-10)
        grads.append(jax.grad(lambda p, f=f: f(p, jnp.asarray(x))[:, 1].sum())(params))
    for g_mps, g_dense in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(grads[1])):
        np.testing.assert_allclose(g_mps, g_dense, atol=1e-9)


@pytest.mark.parametrize("backend", ["mps", "dense"])
def test_classifier_equals_its_protocol_run_with_its_parameters(backend):
    """The NNX forward pass (scanned layer pairs) and ``Protocol.run`` (the step list, one
    step per unitary) compute the same class distribution: A_l is Alice's alice[l - 1]."""
    model = _model(backend, seed=11, scale=1.0)
    x = jnp.asarray(np.random.default_rng(11).normal(size=(2, N_FEATURES)))
    params = {}
    for layer in range(model.layers):
        params[f"A{layer + 1}"] = model.alice[...][layer]
        params[f"B{layer + 1}"] = model.bob[...][layer]
    for key, value in model.protocol_params().items():
        np.testing.assert_array_equal(value, params[key])
    protocol = model.protocol()
    run = jax.jit(jax.vmap(lambda xi: protocol.run(params, {"x": xi}, **model.run_options())))
    probs = np.asarray(run(x))[:, :N_CLASSES]
    want = np.log(probs / probs.sum(1, keepdims=True))
    np.testing.assert_allclose(model(x)["logits"], want, atol=1e-12)


def test_truncated_model_is_as_close_to_the_statevector_as_its_fidelity_allows():
    """6 qubits, 10 classes at bond 2 (exact: 8): the fidelity F falls below 1 and the class
    distribution p moves from the float64 statevector's by at most what F allows: TV <=
    sqrt(1 - F) for the register, <= 2 sqrt(1 - F) / Q after renormalising over the classes
    (Q: their exact mass). (Untruncated logits equal the statevector's: the tests above.)"""
    model = Figure2Classifier(64, 10, layers=1, depth=2, backend="mps", max_bond=2,
                              dtype="float64", init_scale=1.0, rngs=nnx.Rngs(params=0))
    x = np.random.default_rng(0).normal(size=(3, 64))
    want = np.stack([reference_probabilities(model, xi, 10) for xi in x])
    n, mass = model.n_qubits, []
    for xi in x:
        psi = np.zeros(2**n)
        psi[:64] = xi / np.linalg.norm(xi)
        for a, b in zip(np.asarray(model.alice[...]), np.asarray(model.bob[...])):
            psi = _brickwork_dense(_brickwork_dense(psi, b, model.ansatz, n), a, model.ansatz, n)
        mass.append((np.abs(psi) ** 2).reshape(2**model.class_qubits, -1).sum(1)[:10].sum())
    out = model(jnp.asarray(x))
    fid = np.asarray(out["fidelity"])
    assert np.all((0 < fid) & (fid < 1 - 1e-3))
    tv = 0.5 * np.abs(np.exp(np.asarray(out["logits"])) - want).sum(1)
    assert np.all(tv > 1e-3)                                      # truncation really acted
    assert np.all(tv <= 2 * np.sqrt(1 - fid) / np.asarray(mass)), (tv, fid, mass)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="ansatz"):
        Figure2Classifier(8, 2, layers=1, depth=1, ansatz="qaoa", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="at least 2 classes"):
        Figure2Classifier(8, 1, layers=1, depth=1, rngs=nnx.Rngs(0))


@settings(max_examples=5)
@given(n_first=st.integers(1, 5), seed=st.integers(0, 1000))
def test_marginal_probabilities_match_dense(n_first, seed):
    state = tn.random_mps(jax.random.PRNGKey(seed), 5, 3, max_bond=4, dtype=jnp.complex128)
    psi = np.asarray(tn.to_dense(state))
    want = (np.abs(psi) ** 2).reshape(2**n_first, -1).sum(1)
    want /= want.sum()
    np.testing.assert_allclose(tn.marginal_probabilities(state, n_first), want, atol=1e-12)
    np.testing.assert_allclose(
        dense.marginal_probabilities(dense.from_vector(psi), n_first), want, atol=1e-12)
    with pytest.raises(ValueError, match="marginal"):
        tn.marginal_probabilities(state, 6)
