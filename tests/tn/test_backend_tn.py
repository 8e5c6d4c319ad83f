"""The tn backend (one exact network per read-out) against a statevector (numpy, or the dense
backend where a gradient is compared), float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qtnet.circuits import Circuit
from qtnet.tn import backends, network
from qtnet.tn import network_state as ns
from qtnet.tn.backends import tn as tn_backend
from qtnet.tn.gates import FIXED_2Q, ry
from qtnet.tn.mpo import mpo_pauli
from qtnet.tn.mps import vectors_from_label

TN, DENSE = backends.get("tn"), backends.get("dense")
C128 = jnp.complex128


def _random_unitaries(rng, shape, k):
    z = rng.normal(size=(*shape, k, k)) + 1j * rng.normal(size=(*shape, k, k))
    q, r = np.linalg.qr(z)
    return q * (np.diagonal(r, axis1=-2, axis2=-1) / np.abs(np.diagonal(r, axis1=-2,
                                                                       axis2=-1)))[..., None, :]


def _brickwork(backend, label, single, pairs, dtype=C128):
    state = backend.product_state(label, dtype=dtype)
    return backend.apply_brickwork(state, single, pairs)


PAULIS = {"X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
          "Z": np.diag([1.0, -1.0])}


def _numpy_apply(psi, gate, sites, n):
    t = np.moveaxis(psi.reshape((2,) * n), sites, range(len(sites)))
    t = (np.asarray(gate) @ t.reshape(2 ** len(sites), -1)).reshape(t.shape)
    return np.moveaxis(t, range(len(sites)), sites).reshape(-1)


def _numpy_brickwork(label, single, pairs):
    """The reference: a numpy statevector, norm included (label vectors as given)."""
    n = len(label)
    psi = np.ones(1)
    for v in vectors_from_label(label):
        psi = np.kron(psi, v)
    for layer in range(single.shape[0]):
        for q in range(n):
            psi = _numpy_apply(psi, single[layer, q], [q], n)
        for k, i in enumerate(range(layer % 2, n - 1, 2)):
            psi = _numpy_apply(psi, pairs[layer, k], [i, i + 1], n)
    return psi


def _pauli_matrix(observable, n):
    out = 0
    for coeff, term in observable:
        ops = {int(t[1:]): PAULIS[t[0]] for t in term.split()}
        m = np.ones((1, 1))
        for q in range(n):
            m = np.kron(m, ops.get(q, np.eye(2)))
        out = out + coeff * m
    return out


def _random_circuit(seed, n, depth):
    rng = np.random.default_rng(seed)
    single = _random_unitaries(rng, (depth, n), 2)
    pairs = _random_unitaries(rng, (depth, n // 2), 4)
    label = "".join(rng.choice(list("01+-"), n))
    return label, jnp.asarray(single, C128), jnp.asarray(pairs, C128)


@settings(max_examples=4)
@given(seed=st.integers(0, 10**6), n=st.integers(3, 5), depth=st.integers(1, 3),
       data=st.data())
def test_pauli_expectations_equal_the_statevector(seed, n, depth, data):
    label, single, pairs = _random_circuit(seed, n, depth)
    sites = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    paulis = data.draw(st.lists(st.sampled_from("XYZ"), min_size=len(sites),
                                max_size=len(sites)))
    term = " ".join(f"{p}{q}" for p, q in zip(paulis, sites))
    observable = [(0.7, term), (-0.4, f"Z{sites[0]}")]
    psi = _numpy_brickwork(label, np.asarray(single), np.asarray(pairs))
    want = np.vdot(psi, _pauli_matrix(observable, n) @ psi).real / np.vdot(psi, psi).real
    got = TN.expectation_pauli(_brickwork(TN, label, single, pairs), observable)
    np.testing.assert_allclose(float(got), want, atol=1e-12)


@pytest.fixture(scope="module")
def ry_cz():
    """Value-and-gradient of <Z_c> after an RY/CZ brickwork on both backends (n = 7, D = 3)."""
    n, depth = 7, 3
    pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], C128), (depth, n // 2, 4, 4))

    def loss(backend, theta):
        state = _brickwork(backend, "0" * n, ry(theta).astype(C128), pairs)
        return backend.expectation_pauli(state, "Z3 X4")

    steps = {b.name: jax.jit(jax.value_and_grad(lambda t, b=b: loss(b, t))) for b in (TN, DENSE)}
    return n, depth, steps


def test_value_and_gradient_equal_the_statevector_and_the_path_is_searched_once(ry_cz):
    n, depth, steps = ry_cz
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 2 * np.pi, (depth, n))
    value, grad = steps["tn"](theta)
    want_value, want_grad = steps["dense"](theta)
    np.testing.assert_allclose(float(value), float(want_value), atol=1e-12)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(want_grad), atol=1e-12)
    assert np.abs(np.asarray(grad)).max() > 1e-3        # a gradient there is to compare
    # New parameters, and a second compiled function over the same structure: no new path
    # search (the read-out is not even retraced; the plan cache itself is tested below).
    searches = network.PATHS.searches
    for _ in range(3):
        theta = rng.uniform(0, 2 * np.pi, (depth, n))
        np.testing.assert_allclose(float(steps["tn"](theta)[0]),
                                   float(steps["dense"](theta)[0]), atol=1e-12)
    other = jax.jit(jax.grad(lambda t: ry_loss_again(t, n, depth)))
    other(theta)
    assert network.PATHS.searches == searches


def ry_loss_again(theta, n, depth):
    pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], C128), (depth, n // 2, 4, 4))
    state = _brickwork(TN, "0" * n, ry(theta).astype(C128), pairs)
    return TN.expectation_pauli(state, "Z3 X4")


def test_a_new_structure_is_searched_once_and_eager_reads_do_not_retrace():
    cache = network.PathCache()
    label, single, pairs = _random_circuit(3, 5, 2)
    state = _brickwork(TN, label, single, pairs)
    ops = {2: np.diag([1.0, -1.0])}
    first = ns.sandwich(state, ops, cache)
    assert cache.searches == 1
    _, single2, pairs2 = _random_circuit(4, 5, 2)
    ns.sandwich(_brickwork(TN, label, single2, pairs2), ops, cache)
    assert cache.searches == 1 and len(cache.plans) == 1
    ns.sandwich(state, {1: np.diag([1.0, -1.0])}, cache)         # another support
    assert cache.searches == 2
    assert np.isfinite(complex(first))
    TN.expectation_pauli(state, "Z2")
    compiled = tn_backend._pauli_sum._cache_size()  # noqa: SLF001  (the jit cache, read once)
    TN.expectation_pauli(_brickwork(TN, label, single2, pairs2), "Z2")
    assert tn_backend._pauli_sum._cache_size() == compiled  # noqa: SLF001


def test_local_observable_at_100_qubits_equals_the_statevector_of_its_light_cone():
    """<Z_50> after D = 6 RY/CZ layers on 100 qubits: only sites 44..56 can reach it, so a
    13-qubit statevector of that window (same absolute brickwork parity: 44 is even) holds
    the exact value and every nonzero gradient entry. (D = 8, 17 sites: BENCHMARKS.md.)"""
    n, depth, c = 100, 6, 50
    lo, hi = c - depth, c + depth + 1
    theta = np.random.default_rng(5).uniform(0, 2 * np.pi, (depth, n))

    def loss(backend, t, site):
        width = t.shape[1]
        pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], jnp.float64),
                                 (depth, width // 2, 4, 4))
        state = _brickwork(backend, "0" * width, ry(t), pairs, dtype=jnp.float64)
        return backend.expectation_pauli(state, f"Z{site}")

    value, grad = jax.jit(jax.value_and_grad(lambda t: loss(TN, t, c)))(theta)
    want, want_grad = jax.jit(jax.value_and_grad(lambda t: loss(DENSE, t, c - lo)))(
        theta[:, lo:hi])
    np.testing.assert_allclose(float(value), float(want), atol=1e-12)
    np.testing.assert_allclose(np.asarray(grad)[:, lo:hi], np.asarray(want_grad), atol=1e-12)
    assert not np.any(np.asarray(grad)[:, :lo]) and not np.any(np.asarray(grad)[:, hi:])


def test_amplitudes_overlap_norm_marginals_and_mpo_read_outs():
    label, single, pairs = _random_circuit(7, 4, 3)
    b_label, b_single, b_pairs = _random_circuit(8, 4, 2)
    a = _brickwork(TN, label, single, pairs)
    b = TN.scale(_brickwork(TN, b_label, b_single, b_pairs), 0.5 - 2j)
    psi = _numpy_brickwork(label, np.asarray(single), np.asarray(pairs))
    phi = (0.5 - 2j) * _numpy_brickwork(b_label, np.asarray(b_single), np.asarray(b_pairs))
    observable = [(0.3, "X0 Z3"), (-1.1, "Y1 Y2"), (0.5, "Z2")]
    mpo = mpo_pauli(observable, 4, dtype=C128)
    probs = (np.abs(psi) ** 2).reshape(4, -1).sum(1)
    checks = {
        "amplitudes": (TN.amplitudes(a), psi),
        "amplitude": (TN.amplitude(a, [1, 0, 1, 1]), psi[0b1011]),
        "overlap": (TN.overlap(b, a), np.vdot(phi, psi)),
        "norm": (TN.norm(b), np.linalg.norm(phi)),
        "scaled amplitudes": (TN.amplitudes(b), phi),
        "marginal": (TN.marginal_probabilities(a, 2), probs / probs.sum()),
        "mpo": (TN.expectation_mpo(a, mpo),
                np.vdot(psi, _pauli_matrix(observable, 4) @ psi) / np.vdot(psi, psi)),
    }
    for what, (got, want) in checks.items():
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-12, err_msg=what)


def test_gradient_of_an_amplitude():
    n, depth = 4, 2
    pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], C128), (depth, n // 2, 4, 4))

    def amp(backend, theta):
        state = _brickwork(backend, "0+01", ry(theta).astype(C128), pairs)
        if backend is TN:
            return jnp.abs(TN.amplitude(state, [0, 1, 1, 0])) ** 2
        return jnp.abs(DENSE.amplitudes(state)[0b0110]) ** 2

    theta = np.random.default_rng(2).uniform(0, 2 * np.pi, (depth, n))
    got = jax.value_and_grad(lambda t: amp(TN, t))(theta)
    want = jax.value_and_grad(lambda t: amp(DENSE, t))(theta)
    np.testing.assert_allclose(float(got[0]), float(want[0]), atol=1e-12)
    np.testing.assert_allclose(np.asarray(got[1]), np.asarray(want[1]), atol=1e-12)


def test_encoded_vectors_programs_and_non_unitary_gates():
    rng = np.random.default_rng(3)
    vec = rng.normal(size=16) + 1j * rng.normal(size=16)
    gates = _random_unitaries(rng, (3,), 4)
    sites = np.array([0, 2, 1])
    # A non-unitary gate on site 0 after the entangling gates: it lies outside Z3's light
    # cone only if gates were assumed unitary; it must stay (and renormalise the state).
    squash = np.stack([np.diag([1.0, 0.2])] + [np.eye(2)] * 3).astype(complex)
    states = []
    for b in (TN, DENSE):
        s = b.encode(vec, dtype=C128)
        s = b.apply_two_site_sequence(s, sites, gates)
        states.append(b.apply_single_site_layer(s, squash))
    for obs in ("Z3", "X1 Y2", "Z0"):
        np.testing.assert_allclose(float(TN.expectation_pauli(states[0], obs)),
                                   float(DENSE.expectation_pauli(states[1], obs)), atol=1e-12)
    np.testing.assert_allclose(np.asarray(TN.amplitudes(states[0])),
                               np.asarray(DENSE.amplitudes(states[1])), atol=1e-12)


def test_circuits_and_the_command_line_run_on_tn(capsys):
    from qtnet.cli import main

    circ = Circuit(5).h(0).cnot(0, 1).ry(2, 0.3).cnot(1, 3).cz(2, 4).rx(4, 1.1)
    singles = Circuit(2).h(0).ry(1, 0.4)                     # a program with no two-site gate
    for c, obs in ((circ, "Z3"), (circ, [(0.5, "X0 X1"), (0.2, "Z4 Y2")]), (singles, "X0 Z1")):
        assert c.expectation(obs, backend="tn") == pytest.approx(
            c.expectation(obs, backend="dense"), abs=1e-12)
    assert main(["simulate", "example", "--observable", "Z0", "--backend", "tn", "--x64",
                 "--json"]) == 0
    assert '"backend": "tn"' in capsys.readouterr().out


def test_refusals_name_the_backend_to_use():
    state = TN.product_state("0101", dtype=C128)
    for call in (lambda: TN.add(state, state), lambda: TN.hadamard(state, state),
                 lambda: TN.apply_mpo(mpo_pauli("Z0", 4), state),
                 lambda: TN.sample(jax.random.PRNGKey(0), state, 3)):
        with pytest.raises(NotImplementedError, match="use backend 'mps'"):
            call()
    with pytest.raises(ValueError, match="concrete gate sites"):
        jax.jit(lambda s: TN.apply_two_site_sequence(state, s, jnp.eye(4)[None]))(
            jnp.array([0]))
    with pytest.raises(ValueError, match="expected 2 distinct sites in 0..3"):
        TN.apply_two_site_sequence(state, [3], jnp.eye(4)[None])
    with pytest.raises(ValueError, match="expected single \\[D, 4, 2, 2\\]"):
        TN.apply_brickwork(state, jnp.zeros((2, 3, 2, 2)), jnp.zeros((2, 2, 4, 4)))
    with pytest.raises(ValueError, match="at most 2\\^26"):
        TN.amplitudes(TN.product_state("0" * 30, dtype=C128))


def test_auto_rule_prefers_the_network_for_shallow_wide_circuits_only():
    wide = Circuit(24)
    for q in range(24):
        wide.ry(q, 0.1 * q)
    for q in range(0, 23, 2):
        wide.cz(q, q + 1)
    assert tn_backend.cheaper_than_statevector(wide.program(), 24, "Z12")
    deep = Circuit(6)
    for layer in range(30):
        for q in range(6):
            deep.ry(q, 0.1 * layer + q)
        for q in range(layer % 2, 5, 2):
            deep.cz(q, q + 1)
    assert not tn_backend.cheaper_than_statevector(deep.program(), 6, "Z0 Z5")
    # auto takes the rule above the host statevector's range, and only there
    picked = wide.simulate("Z12", backend="auto")
    assert picked.backend == "tn"
    assert picked.value == pytest.approx(wide.simulate("Z12", backend="dense").value, abs=1e-6)
    assert deep.simulate("Z0 Z5", backend="auto").backend == "dense"
