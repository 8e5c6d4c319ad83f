"""Protocols on the dense and MPS backends against a numpy statevector (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qtnet import tn
from qtnet.parties import (BlockEncoding, Encode, HadamardProduct, Layout, Party, Protocol,
                           Readout, Register, Unitary, amplitude_encode, chain_protocol,
                           embed_brickwork, encode_matrix, figure2_protocol)
from qtnet.tn import dense
from qtnet.tn.gates import FIXED_2Q, ry
from tests.helpers import apply_dense, pauli_matrix

F64 = jnp.float64


def _brickwork_ref(psi, angles, start, n):
    for layer, a in enumerate(np.asarray(angles)):
        for q, theta in enumerate(a):
            psi = apply_dense(psi, np.asarray(ry(theta)), [start + q], n)
        for q in range(start + layer % 2, start + len(a) - 1, 2):
            psi = apply_dense(psi, FIXED_2Q["CZ"], [q, q + 1], n)
    return psi


def test_embedded_brickwork_matches_a_register_local_reference():
    rng = np.random.default_rng(0)
    n = 7
    for start, k, depth in [(0, 7, 3), (1, 4, 3), (2, 3, 2), (3, 4, 4)]:
        angles = jnp.asarray(rng.normal(size=(depth, k)))
        single, pairs = embed_brickwork(angles, "ry_cz", start, k, n, F64)
        psi0 = rng.normal(size=2**n)
        psi0 /= np.linalg.norm(psi0)
        want = _brickwork_ref(psi0, angles, start, n)
        state = dense.apply_brickwork(dense.from_vector(psi0, dtype=F64), single, pairs)
        np.testing.assert_allclose(state.to_dense(), want, atol=1e-10)


_runs = {}


def _run_fn(protocol, backend):
    key = (id(protocol), backend)
    if key not in _runs:
        _runs[key] = jax.jit(lambda p, d: protocol.run(p, d, backend=backend, dtype=F64))
    return _runs[key]


FIG2 = figure2_protocol(5, 2, depth=2, observable=[(0.7, "Z0 Z3"), (-0.4, "X2")])


@given(seed=st.integers(0, 2**31 - 1))
def test_figure2_dense_and_mps_equal_the_reference_and_their_gradients_agree(seed):
    rng = np.random.default_rng(seed)
    params = FIG2.init_params(jax.random.PRNGKey(seed % 997), 1.0, F64)
    x = rng.normal(size=29)                         # padded to 32 explicitly
    psi = np.pad(x, (0, 3)) / np.linalg.norm(x)
    for layer in (1, 2):
        psi = _brickwork_ref(psi, params[f"B{layer}"], 0, 5)
        psi = _brickwork_ref(psi, params[f"A{layer}"], 0, 5)
    obs = 0.7 * pauli_matrix({0: "Z", 3: "Z"}, 5) - 0.4 * pauli_matrix({2: "X"}, 5)
    want = np.real(psi.conj() @ obs @ psi)
    data = {"x": jnp.asarray(x)}
    grads = []
    for backend in ("dense", "mps"):
        f = _run_fn(FIG2, backend)
        np.testing.assert_allclose(f(params, data), want, atol=1e-10)
        grads.append(jax.grad(f)(params, data))
    for a, b in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(grads[1])):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_block_encoding_hadamard_product_and_overlap_readout():
    """Alice encodes X on (node, feat), Bob applies W on feat, Alice squares and overlaps."""
    rng = np.random.default_rng(3)
    layout = (Register("node", 2), Register("feat", 2))
    x = rng.normal(size=(4, 4))
    w = rng.normal(size=(4, 4))
    alpha = float(np.linalg.norm(w, 2)) * 1.01
    ref = rng.normal(size=16)
    steps = [Encode("alice", "X"), BlockEncoding("bob", "W", ("feat",), alpha),
             HadamardProduct("alice"), Readout("alice", reference="ref")]
    protocol = Protocol((Party("alice"), Party("bob")), layout, steps)
    unit = x.reshape(-1) / np.linalg.norm(x)
    after = (np.kron(np.eye(4), w) @ unit) ** 2
    want = ref @ after / np.linalg.norm(ref)
    data = {"X": jnp.asarray(x.reshape(-1)), "ref": jnp.asarray(ref)}
    for backend in ("dense", "mps"):
        got = protocol.run({"W": jnp.asarray(w)}, data, backend=backend, dtype=F64)
        np.testing.assert_allclose(got, want, rtol=1e-10)
    assert protocol.sub_normalisation() == pytest.approx(alpha**2)
    assert [h.copies_factor for h in protocol.handoffs()] == [2, 2]


def test_chain_protocol_hands_the_state_down_the_line():
    chain = chain_protocol(["p1", "p2", "p3"], 4, rounds=2, depth=1)
    hand = [(h.sender, h.receiver) for h in chain.handoffs()]
    assert hand == [("p1", "p2"), ("p2", "p3"), ("p3", "p1"), ("p1", "p2"), ("p2", "p3")]
    params = chain.init_params(jax.random.PRNGKey(0), 1.0, F64)
    x = jnp.arange(1.0, 17.0)
    np.testing.assert_allclose(chain.run(params, {"x": x}, backend="mps", dtype=F64),
                               chain.run(params, {"x": x}, backend="dense", dtype=F64),
                               atol=1e-10)


def test_encodings_keep_log_norms_and_pad_explicitly():
    x = np.arange(1.0, 6.0)
    state, log_norm = amplitude_encode(x, 3, backend="mps", dtype=F64)
    np.testing.assert_allclose(log_norm, np.log(np.linalg.norm(x)))
    np.testing.assert_allclose(tn.to_dense(state), np.pad(x, (0, 3)) / np.linalg.norm(x),
                               atol=1e-12)
    m = np.arange(6.0).reshape(2, 3)
    state, _ = encode_matrix(m, 1, 2, backend="dense", dtype=F64)
    np.testing.assert_allclose(state.to_dense(),
                               np.pad(m, ((0, 0), (0, 1))).reshape(-1) / np.linalg.norm(m))
    batch = jax.vmap(lambda v: amplitude_encode(v, 2, dtype=F64)[1])(jnp.ones((3, 4)))
    np.testing.assert_allclose(batch, np.log(2.0) * np.ones(3))
    with pytest.raises(ValueError, match="has 9 entries; 3 qubits hold at most 8"):
        amplitude_encode(np.ones(9), 3)
    with pytest.raises(ValueError, match="norm 0"):
        amplitude_encode(np.zeros(4), 2)
    with pytest.raises(ValueError, match=r"does not fit registers of 1 x 1"):
        encode_matrix(m, 1, 1)


@pytest.mark.parametrize("build, message", [
    (lambda: Protocol((Party("a"),), (Register("r", 2),),
                      [Encode("a", "x"), Unitary("eve", "U", ("r",)), Readout("a", "Z0")]),
     "step 1 \\(Unitary\\) is owned by unknown party 'eve'; parties are a"),
    (lambda: Protocol((Party("a"),), (Register("r", 2),),
                      [Encode("a", "x"), Unitary("a", "U", ("s",)), Readout("a", "Z0")]),
     "unknown register 's'; registers are r"),
    (lambda: Protocol((Party("a"),), (Register("r", 1), Register("s", 1), Register("t", 1)),
                      [Encode("a", "x"), Unitary("a", "U", ("r", "t")), Readout("a", "Z0")]),
     "registers r, t are not adjacent"),
    (lambda: Protocol((Party("a"),), (Register("r", 2),),
                      [Unitary("a", "U", ("r",)), Readout("a", "Z0")]),
     "starts with an Encode step"),
    (lambda: Protocol((Party("a"),), (Register("r", 2),),
                      [Encode("a", "x"), Readout("a")]),
     "exactly one of observable, reference, probabilities"),
    (lambda: Protocol((Party("a"),), (Register("r", 2),),
                      [Encode("a", "x"), BlockEncoding("a", "M", ("r",), 0.0),
                       Readout("a", "Z0")]),
     "alpha must be finite and > 0"),
    (lambda: Protocol((Party("a"),), (Register("r", 2),),
                      [Encode("a", "x"), BlockEncoding("a", "M", ("r",), float("inf")),
                       Readout("a", "Z0")]),
     "alpha must be finite and > 0, got inf"),
    (lambda: Layout((Register("r", 1), Register("r", 2))), "repeated: r"),
    (lambda: Register("r", 0), "n_qubits must be a positive integer"),
])
def test_bad_protocols_are_refused_with_a_clear_message(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_block_encoding_below_the_spectral_norm_is_refused():
    m = np.diag([3.0, 1.0])
    protocol = Protocol((Party("a"),), (Register("r", 1),),
                        [Encode("a", "x"), BlockEncoding("a", "M", ("r",), 2.0),
                         Readout("a", "Z0")])
    with pytest.raises(ValueError, match=r"alpha = 2 is below the operator's spectral norm "
                                         r"\(exact: 3\)"):
        protocol.run({"M": m}, {"x": np.ones(2)}, backend="dense")
    with pytest.raises(ValueError, match=r"step 1 needs params or data\['M'\]"):
        protocol.run({}, {"x": np.ones(2)}, backend="dense")


def _product_operator_protocol(n: int, alpha: float) -> Protocol:
    return Protocol((Party("a"),), (Register("r", n),),
                    [Encode("a", "x"), BlockEncoding("a", "M", ("r",), alpha),
                     Readout("a", "Z0")])


def test_block_encoding_norm_is_checked_above_the_dense_limit():
    """16 sites: M = diag(1.5, 1) on the first qubit, identity elsewhere; ||M||_2 = 1.5 but
    ||M||_F = 2^7.5 * 1.8, so only the power iteration can show the violation."""
    n = 16
    local = np.broadcast_to(np.eye(2), (n, 2, 2)).copy()
    local[0] = np.diag([1.5, 1.0])
    mpo = tn.mpo_from_local(local, dtype=jnp.float64)
    x = tn.product_state(np.broadcast_to(np.array([1.0, 0.0]), (n, 2)), dtype=jnp.float64)
    with pytest.raises(ValueError, match=r"alpha = 1.4 is below .*power iteration: 1.5"):
        _product_operator_protocol(n, 1.4).run({"M": mpo}, {"x": x})
    value = _product_operator_protocol(n, 1.6).run({"M": mpo}, {"x": x})
    assert float(value) == pytest.approx(1.5**2)


def test_block_encoding_norm_is_checked_under_jit():
    """A traced operator (a trained parameter) is checked when the compiled step runs."""
    protocol = _product_operator_protocol(1, 2.0)
    run = jax.jit(lambda m: protocol.run({"M": m}, {"x": jnp.ones(2)}, backend="dense"))
    assert np.isfinite(float(run(jnp.diag(jnp.array([1.5, 1.0])))))
    with pytest.raises(Exception, match="alpha = 2 is below the operator's spectral norm"):
        float(run(jnp.diag(jnp.array([3.0, 1.0]))))
