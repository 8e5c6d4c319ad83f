"""Finite-shot emulation: estimates that carry the shot noise of the copies metered for them.

Outcomes are sampled from the simulated state (exact Born probabilities on the dense backend,
perfect sampling on the MPS backend), so a loss or gradient estimated from ``m`` shots has the
statistics of ``m`` measured copies. Conventions follow :mod:`qtnet.comm.estimators`:

* a Pauli sum O = sum_k c_k P_k is measured by importance sampling: each shot picks term k
  with probability |c_k| / ||c||_1, measures P_k in its eigenbasis and reports
  sign(c_k) ||c||_1 (+-1);
* a sub-normalised state psi (after block encodings of total alpha) is prepared successfully
  with probability ||psi||^2 / alpha^2; a failed shot reports 0. The mean outcome times
  alpha^2 is then exactly <psi|O|psi>, the value :meth:`Protocol.run` returns;
* an overlap readout is a Hadamard test: +-1 with P(+1) = (1 + Re<ref|psi> / alpha) / 2.
"""

from __future__ import annotations

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from qtnet.parties.protocol import BlockEncoding, Protocol, Readout, Unitary
from qtnet.tn import backends
from qtnet.tn.ansatz import SHIFT_RULE_ANSATZE
from qtnet.tn.mpo import parse_pauli_string, pauli_terms

_H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
_TO_Z = {"I": np.eye(2), "Z": np.eye(2), "X": _H, "Y": _H @ np.diag([1, -1j])}


def _as_complex(state):
    """The state in complex arithmetic (the Y-basis rotation has complex entries)."""
    return backends.of_state(state).astype(state, jnp.result_type(state.dtype, jnp.complex64))


def _term_labels(observable, n: int):
    """``(coeffs [K], labels)``: ``labels[k][q]`` in 'IXYZ', term k's Pauli on qubit q."""
    coeffs, _ = pauli_terms(observable, n)           # validates the observable
    pairs = [(1.0, observable)] if isinstance(observable, str) else list(observable)
    labels = []
    for _, text in pairs:
        ops = parse_pauli_string(text, n)
        labels.append("".join(ops.get(q, "I") for q in range(n)))
    if np.any(np.abs(np.imag(coeffs)) > 0):
        raise ValueError("a measured observable needs real coefficients")
    return np.real(coeffs), labels


def pauli_shots(key, state, observable, shots: int, alpha: float = 1.0) -> jax.Array:
    """``[shots]`` single-shot outcomes whose mean times ``alpha**2`` estimates <psi|O|psi>."""
    ops, n = backends.of_state(state), state.n_sites
    coeffs, labels = _term_labels(observable, n)
    weight = np.abs(coeffs)
    norm1 = float(weight.sum())
    k_term, k_ok, *k_meas = jax.random.split(key, 2 + len(labels))
    success = ops.norm(state) ** 2 / alpha**2
    if any("Y" in label for label in labels):
        state = _as_complex(state)
    per_term = []
    for label, k in zip(labels, k_meas):       # a few terms, each one basis rotation + sampling
        rot = jnp.asarray(np.stack([_TO_Z[c] for c in label]))
        rotated = ops.apply_single_site_layer(state, rot.astype(state.dtype))
        bits = ops.sample(k, rotated, shots)                            # [shots, n]
        mask = jnp.asarray([c != "I" for c in label])
        per_term.append(1 - 2 * (jnp.sum(bits * mask, axis=-1) % 2))   # parity -> +-1
    outcomes = jnp.stack(per_term)                                      # [K, shots]
    pick = jax.random.choice(k_term, len(labels), (shots,), p=jnp.asarray(weight / norm1))
    signed = jnp.asarray(np.sign(coeffs))[pick] * norm1 * outcomes[pick, jnp.arange(shots)]
    ok = jax.random.uniform(k_ok, (shots,)) < success
    return jnp.where(ok, signed, 0.0)


def distribution_shots(key, state, n_first: int, shots: int, alpha: float = 1.0) -> jax.Array:
    """Observed frequencies ``[2^n_first]`` of the first ``n_first`` qubits over ``shots``
    copies (failed preparations of a sub-normalised state count in no outcome)."""
    ops = backends.of_state(state)
    k_sample, k_ok = jax.random.split(key)
    bits = ops.sample(k_sample, state, shots)[:, :n_first]             # [shots, k]
    index = jnp.sum(bits * (2 ** jnp.arange(n_first - 1, -1, -1)), axis=-1)
    ok = jax.random.uniform(k_ok, (shots,)) < ops.norm(state) ** 2 / alpha**2
    counts = jnp.zeros(2**n_first).at[index].add(jnp.where(ok, 1.0, 0.0))
    return counts / shots


def hadamard_test_shots(key, value, shots: int, alpha: float = 1.0) -> jax.Array:
    """``[shots]`` +-1 outcomes of a Hadamard test with mean Re<ref|psi> / alpha."""
    p_plus = jnp.clip((1 + value / alpha) / 2, 0.0, 1.0)
    return jnp.where(jax.random.uniform(key, (shots,)) < p_plus, 1.0, -1.0)


def shot_estimate(protocol: Protocol, params, data, key, shots: int, *, backend="mps",
                  max_bond=None, cutoff: float = 0.0, dtype=None) -> jax.Array:
    """The readout estimated from ``shots`` copies (an unbiased estimate of ``run``)."""
    kw = dict(backend=backend, max_bond=max_bond, cutoff=cutoff, dtype=dtype)
    state = None
    for i in range(len(protocol.steps) - 1):
        state = protocol.apply_step(i, state, params, data, **kw)
    readout: Readout = protocol.steps[-1]
    alpha = protocol.sub_normalisation()
    if readout.kind == "probabilities":
        return distribution_shots(key, state, readout.probabilities, shots, alpha) * alpha**2
    if readout.observable is not None:
        outcomes = pauli_shots(key, state, readout.observable, shots, alpha)
        return jnp.mean(outcomes) * alpha**2
    exact = protocol.apply_step(len(protocol.steps) - 1, state, params, data, **kw)
    return jnp.mean(hadamard_test_shots(key, exact, shots, alpha)) * alpha


def parameter_shift_gradient(protocol: Protocol, params, data, key, shots: int, **kw):
    """The gradient by the parameter-shift rule, each of the 2P loss estimates from ``shots``
    copies. Exact in expectation for RY angles (``ry_cz`` unitaries).

    Only rotation angles (the ``params`` of Unitary steps) are shifted; any other entry of
    ``params`` (a block encoding's operator) has no shift rule and is refused — pass a fixed
    operator in ``data``."""
    angle_keys = {step.key for step in protocol.steps if isinstance(step, Unitary)}
    for i, step in enumerate(protocol.steps):
        if isinstance(step, Unitary) and step.ansatz not in SHIFT_RULE_ANSATZE:
            raise ValueError(f"parameter shift needs gates exp(-i theta G/2) with G^2 = 1; "
                             f"step {step.key!r} uses the {step.ansatz} ansatz")
        if isinstance(step, BlockEncoding) and step.key in params:
            raise ValueError(f"parameter shift applies to rotation angles only; params"
                             f"[{step.key!r}] is the operator of block encoding step {i}, "
                             f"which has no shift rule (pass it in data to hold it fixed)")
    others = sorted(set(params) - angle_keys)
    if others:
        raise ValueError(f"parameter shift applies to rotation angles only; params "
                         f"{', '.join(map(repr, others))} belong to no Unitary step "
                         f"(angle keys: {', '.join(map(repr, sorted(angle_keys)))})")
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    p = flat.shape[0]
    shifts = jnp.concatenate([jnp.eye(p), -jnp.eye(p)]) * (np.pi / 2)   # [2P, P]
    keys = jax.random.split(key, 2 * p)

    def one(shift, k):
        return shot_estimate(protocol, unravel(flat + shift.astype(flat.dtype)), data, k,
                             shots, **kw)

    values = jax.vmap(one)(shifts, keys)
    return unravel((values[:p] - values[p:]) / 2)


def shot_value_and_grad(protocol: Protocol, params, data, key, shots: int, **kw):
    """``(loss, grad)`` as hardware would estimate them: the loss from ``shots`` copies and
    the gradient by parameter shift (``2P`` more estimates of ``shots`` copies each). Use it in
    place of ``jax.value_and_grad`` to train with shot noise; pass ``fold_in(key, step)``."""
    k_loss, k_grad = jax.random.split(key)
    loss = shot_estimate(protocol, params, data, k_loss, shots, **kw)
    return loss, parameter_shift_gradient(protocol, params, data, k_grad, shots, **kw)
