"""Named gate matrices (traceable in their angles).

Two-qubit matrices act on ``|q_a q_b>`` with ``q_a`` the more significant bit, i.e. as
``[out_a, out_b, in_a, in_b]`` after a reshape to ``[2, 2, 2, 2]``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from qtnet.tn.mps_pytree import default_dtype
from qtnet.tn.shapes import OneQubitGates, SU4Params, TwoQubitGates

_SQ2 = 1.0 / np.sqrt(2.0)

FIXED_1Q = {
    "I": np.eye(2),
    "H": np.array([[1, 1], [1, -1]]) * _SQ2,
    "X": np.array([[0, 1], [1, 0]]),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.array([[1, 0], [0, -1]]),
    "S": np.diag([1, 1j]),
    "SDG": np.diag([1, -1j]),
    "T": np.diag([1, np.exp(1j * np.pi / 4)]),
    "TDG": np.diag([1, np.exp(-1j * np.pi / 4)]),
    "SX": 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]),
    "SXDG": 0.5 * np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]]),
}


def _controlled(u, xp=jnp) -> jnp.ndarray:
    u = xp.asarray(u)
    top = xp.concatenate([xp.eye(2, dtype=u.dtype), xp.zeros((2, 2), u.dtype)], axis=1)
    bottom = xp.concatenate([xp.zeros((2, 2), u.dtype), u], axis=1)
    return xp.concatenate([top, bottom], axis=0)


FIXED_2Q = {
    "CNOT": _controlled(FIXED_1Q["X"], xp=np),      # numpy: no XLA compile at import
    "CZ": np.diag([1, 1, 1, -1]).astype(float),
    "CY": _controlled(FIXED_1Q["Y"], xp=np),
    "SWAP": np.eye(4)[[0, 2, 1, 3]],
}
FIXED_2Q["CX"] = FIXED_2Q["CNOT"]


def _mat2(a, b, c, d, xp=jnp):
    """[[a, b], [c, d]] with the matrix axes last, so angles may be arrays."""
    a, b, c, d = xp.broadcast_arrays(a, b, c, d)
    return xp.stack([xp.stack([a, b], -1), xp.stack([c, d], -1)], -2)


# The parameterised gates take ``xp=numpy`` for concrete angles (gate_matrix does that for
# scalars): a circuit's matrices then cost no XLA compile of their own.
def rx(theta, xp=jnp) -> OneQubitGates:
    c, s = xp.cos(theta / 2), xp.sin(theta / 2)
    return _mat2(c + 0j, -1j * s, -1j * s, c + 0j, xp=xp)


def ry(theta, xp=jnp) -> OneQubitGates:
    """Real-valued, so real circuits can run in real arithmetic."""
    c, s = xp.cos(theta / 2), xp.sin(theta / 2)
    return _mat2(c, -s, s, c, xp=xp)


def rz(theta, xp=jnp) -> OneQubitGates:
    e = xp.exp(-0.5j * xp.asarray(theta))
    return _mat2(e, 0j, 0j, xp.conj(e), xp=xp)


def phase(lam, xp=jnp):
    lam = xp.asarray(lam)
    return _mat2(1 + 0j * lam, 0j * lam, 0j * lam, xp.exp(1j * lam), xp=xp)


def u3(theta, phi, lam, xp=jnp):
    """OpenQASM's U(theta, phi, lambda)."""
    c, s = xp.cos(theta / 2) + 0j, xp.sin(theta / 2) + 0j
    return _mat2(c, -xp.exp(1j * lam) * s, xp.exp(1j * phi) * s, xp.exp(1j * (phi + lam)) * c,
                 xp=xp)


def rzz(theta, xp=jnp):
    e = xp.exp(-0.5j * theta)
    return xp.diag(xp.array([e, xp.conj(e), xp.conj(e), e]))


def rxx(theta, xp=jnp):
    x = xp.asarray(FIXED_1Q["X"])
    return xp.cos(theta / 2) * xp.eye(4) - 1j * xp.sin(theta / 2) * xp.kron(x, x)


def controlled(u: OneQubitGates) -> TwoQubitGates:
    """|0><0| (x) I + |1><1| (x) u, control on the first (more significant) qubit."""
    return _controlled(u)


# Hermitian basis of su(4): the 15 non-identity two-qubit Pauli products.
_PAULIS = [FIXED_1Q[k] for k in ("I", "X", "Y", "Z")]
SU4_GENERATORS = np.stack([np.kron(a, b) for i, a in enumerate(_PAULIS)
                           for j, b in enumerate(_PAULIS) if i or j])


def su4(params: SU4Params, xp=jnp) -> TwoQubitGates:
    """General two-qubit gate exp(-i sum_k params[k] G_k / 2) over the 15 Pauli products."""
    params = xp.asarray(params)
    if params.shape[-1] != 15:
        raise ValueError(f"su4 takes 15 parameters, got {params.shape[-1]}")
    gens = xp.asarray(SU4_GENERATORS, xp.result_type(params.dtype, xp.complex64))
    h = xp.einsum("...k,kij->...ij", params.astype(gens.dtype), gens)
    if xp is np:                                 # h is Hermitian: exp via its eigenbasis
        w, v = np.linalg.eigh(h)
        return (v * np.exp(-0.5j * w)[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))
    return jax.scipy.linalg.expm(-0.5j * h)


PARAM_1Q = {"RX": (rx, 1), "RY": (ry, 1), "RZ": (rz, 1), "P": (phase, 1), "U1": (phase, 1),
            "U3": (u3, 3), "U": (u3, 3)}
PARAM_2Q = {"RZZ": (rzz, 1), "RXX": (rxx, 1), "SU4": (su4, 15)}
# Controlled one-qubit gates (control = first qubit), named as in qelib1.
FIXED_2Q.update({"CH": _controlled(FIXED_1Q["H"], xp=np),
                 "CSX": _controlled(FIXED_1Q["SX"], xp=np)})
for _name, (_fn, _count) in {"CRX": (rx, 1), "CRY": (ry, 1), "CRZ": (rz, 1),
                             "CU1": (phase, 1), "CP": (phase, 1), "CU3": (u3, 3)}.items():
    PARAM_2Q[_name] = ((lambda fn: lambda *p, xp=jnp: _controlled(fn(*p, xp=xp), xp))(_fn),
                       _count)


# Gates whose matrix is real for every value of its angles: a circuit of these on a real
# state has real amplitudes and can run in real arithmetic (evolve.apply_brickwork_real).
REAL_GATES = frozenset({"I", "H", "X", "Z", "CNOT", "CX", "CZ", "SWAP", "CH", "RY", "CRY"})


def is_real_gate(name: str) -> bool:
    """Whether gate ``name`` has a real matrix for all of its angles (RY, CZ, H, ...)."""
    key = name.upper()
    if key not in known_gates():
        raise ValueError(f"unknown gate {name!r}; known gates: {', '.join(sorted(known_gates()))}")
    return key in REAL_GATES


def gate_matrix(name: str, params=(), dtype=None, xp=jnp):
    """The matrix of a named gate; ``params`` are its angles (may be traced).

    ``xp=numpy`` computes it on the host from concrete angles (a numpy array: no JAX
    operation, so nothing is traced or compiled even inside ``jax.jit``).
    """
    key = name.upper()
    dtype = dtype or default_dtype()
    if key in FIXED_1Q:
        m = FIXED_1Q[key]
    elif key in FIXED_2Q:
        m = FIXED_2Q[key]
    elif key in PARAM_1Q or key in PARAM_2Q:
        fn, count = {**PARAM_1Q, **PARAM_2Q}[key]
        if key == "SU4":
            return xp.asarray(fn(xp.asarray(params), xp=xp), dtype)
        if len(params) != count:
            raise ValueError(f"gate {name} takes {count} parameter(s), got {len(params)}")
        return xp.asarray(fn(*params, xp=xp), dtype)
    else:
        raise ValueError(f"unknown gate {name!r}; known gates: {', '.join(sorted(known_gates()))}")
    if params:
        raise ValueError(f"gate {name} takes no parameters, got {len(params)}")
    return xp.asarray(m, dtype)


def gate_arity(name: str) -> int:
    key = name.upper()
    if key in FIXED_1Q or key in PARAM_1Q:
        return 1
    if key in FIXED_2Q or key in PARAM_2Q:
        return 2
    raise ValueError(f"unknown gate {name!r}; known gates: {', '.join(sorted(known_gates()))}")


def known_gates() -> list[str]:
    return [*FIXED_1Q, *FIXED_2Q, *PARAM_1Q, *PARAM_2Q]
