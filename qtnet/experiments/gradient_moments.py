"""Exact moments of dC/dtheta over uniformly random angles, by a replica tensor-network
contraction (no sampling): the estimator behind the barren-plateau slopes.

For a real circuit (``ry_cz``: RY and CZ, real amplitudes) and a real symmetric observable O,
C = <psi|O|psi> and dC/dtheta_k = 2 <psi|O|dpsi>, where dpsi is the circuit with the
differentiated gate R_k replaced by R_k'. Hence

    E[dC/dtheta_k]     = 2 <O| E[psi (x) dpsi]>,
    E[(dC/dtheta_k)^2] = 4 <O (x) O| E[psi (x) dpsi (x) psi (x) dpsi]>,

and, the angles being independent, the expectation moves onto each gate: every RY becomes
its moment E_theta[R^(x)c] (a c-copy map, local dimension 2^c = 4 or 16), the differentiated
one E_theta[R (x) R' (x) ...], every CZ its c-fold copy (fixed). What is left is one
contraction of a 2D network of width n and depth L, done here left to right over the sites
(the environment holds one bond per layer whose CZ crosses the current cut, so its size is
16^ceil(L/2)-ish whatever n is: exact and cheap at 512 qubits for shallow circuits).

The moments E_theta[...] are exact quadratures: every entry of R(theta) is a trig polynomial
of theta/2 of degree 1, so a product of c <= 4 of them has integer frequencies |k| <= c/2 and
the mean over ``QUADRATURE_POINTS`` equally spaced angles is its integral.

Copies are ordered (psi, dpsi, psi, dpsi), copy 0 the most significant bit of a replica
index x in [0, 2^c).
"""

from __future__ import annotations

import math

import numpy as np

from qtnet.tn.ansatz import brickwork_gates
from qtnet.tn.gates import ry

QUADRATURE_POINTS = 8       # > 2 = the largest frequency of a 4-copy product: exact
MAX_EXACT_DEPTH = 6         # the environment grows 16x per two layers (16^4 x 16 x 4 at L = 6)


def single_gate_moments(copies: int) -> tuple[np.ndarray, np.ndarray]:
    """``(plain, differentiated)``, each ``[2^c, 2^c]``: E_theta[R^(x)c] and E_theta of the
    product with R' on the odd copies (the dpsi copies), for theta uniform on [0, 2 pi).

    R is the ansatz's RY = exp(-i theta Y / 2) (``SHIFT_RULE_ANSATZE``), so
    R' = (R(theta + pi) - R(theta - pi)) / 4 exactly; float64.
    """
    theta = 2 * math.pi * np.arange(QUADRATURE_POINTS) / QUADRATURE_POINTS
    r = ry(theta, xp=np)                                                   # [M, 2, 2]
    dr = (ry(theta + math.pi, xp=np) - ry(theta - math.pi, xp=np)) / 4     # shift rule
    plain = r
    diff = r
    for c in range(1, copies):          # [M, out, in] (x) [M, o, i] -> [M, (out o), (in i)]
        plain = np.einsum("mab,mcd->macbd", plain, r).reshape(len(theta), 2 ** (c + 1), -1)
        diff = np.einsum("mab,mcd->macbd", diff, dr if c % 2 else r).reshape(
            len(theta), 2 ** (c + 1), -1)
    return plain.mean(axis=0), diff.mean(axis=0)


def brick_diagonal(copies: int) -> np.ndarray:
    """``[2^c (left site), 2^c (right site)]``: the c-fold copy of the diagonal brick (CZ) as
    g(b, x) = prod_copies g(b_copy, x_copy), b the left site's replica index."""
    pair = np.asarray(brickwork_gates(np.zeros((1, 2)), "ry_cz", 2)[1][0, 0], np.float64)
    if not np.allclose(pair, np.diag(np.diag(pair))):
        raise ValueError("the replica contraction needs diagonal two-qubit bricks (CZ)")
    g = np.diag(pair).reshape(2, 2)                                    # [left bit, right bit]
    out = np.ones((1, 1))
    for _ in range(copies):
        out = np.einsum("bx,cy->bcxy", out, g).reshape(out.shape[0] * 2, -1)
    return out


def observable_sites(cost: str, n: int, copies: int) -> tuple[float, list[np.ndarray]]:
    """``(scale, [B_j [left bond, 2^c, right bond]])``: <O (x) ... | as an MPS over replica
    indices, one O per copy pair (psi, dpsi); O = scale * (the MPS's operator).

    global: O = -|0...0><0...0| (C = 1 - |<0|psi>|^2), bond 1;
    local: O = -(1/2n) sum_j Z_j (C = (1 - mean_j <Z_j>) / 2), bond 2 per copy pair.
    """
    pairs = copies // 2
    eye, z, zero = np.eye(2).ravel(), np.diag([1.0, -1.0]).ravel(), np.zeros(4)
    if cost == "global":
        proj = np.zeros(4)
        proj[0] = 1.0                                                  # |0><0|, index (a b)
        one = proj.reshape(1, 4, 1)
        scale = -1.0
    elif cost == "local":
        # sum_j Z_j as an MPO of bond 2: [[I, Z], [0, I]]; left end row 0, right end column 1
        one = np.stack([np.stack([eye, z]), np.stack([zero, eye])]).transpose(0, 2, 1)
        scale = -1.0 / (2 * n)
    else:
        raise ValueError(f"unknown cost {cost!r}; choose one of global, local")
    site = np.ones((1, 1, 1))
    for _ in range(pairs):              # [l, x, r] (x) [l', x', r'] -> [(l l'), (x x'), (r r')]
        site = np.einsum("axb,cyd->acxybd", site, one).reshape(
            site.shape[0] * one.shape[0], site.shape[1] * 4, -1)
    sites = [site] * n
    sites[0] = site[:1]                                                # left end: row 0
    sites[-1] = site[..., -1:]                                         # right end: last column
    return scale ** pairs, sites


def replica_contraction(n: int, depth: int, copies: int, cost: str,
                        parameter: tuple[int, int]) -> tuple[float, float]:
    """<O^(x)c/2 | E[psi (x) dpsi (x) ...]> for the ``ry_cz`` brickwork (layer l: RY on
    every site, then CZ on the pairs from site l mod 2), contracted site by site.

    The environment ``env`` has axes ``[boundary bond, *open bricks (one per layer in
    open_layers), x]``: an open brick's axis holds its left site's replica index b, consumed
    at the right site as g(b, x). It is rescaled after every site (Var reaches 1e-240 at
    n = 512), so the result comes back as ``(sign, ln |value|)``.
    """
    plain, diff = single_gate_moments(copies)
    g = brick_diagonal(copies)
    scale, boundary = observable_sites(cost, n, copies)
    start = np.zeros(2 ** copies)
    start[0] = 1.0                                                     # |0>^(x)c
    env, open_layers, log_scale = np.ones(1), [], 0.0
    for j in range(n):
        env = env[..., None] * start                                   # [..., x]
        for layer in range(depth):
            gate = diff if (layer, j) == tuple(parameter) else plain
            env = env @ gate.T                                         # x <- gate x
            first = layer % 2
            if j >= first and (j - first) % 2 == 0 and j + 1 < n:      # left site of a brick
                env = env[..., None, :] * np.eye(len(start))           # [..., b, x], b = x
                open_layers.append(layer)
            elif j - 1 >= first and (j - 1 - first) % 2 == 0:          # right site of a brick
                axis = 1 + open_layers.index(layer)
                env = np.moveaxis(env, axis, -2)                       # [..., b, x]
                env = np.einsum("...bx,bx->...x", env, g)
                open_layers.remove(layer)
        # [bl, *open, x] . B_j [bl, x, br] -> [br, *open]
        env = np.moveaxis(np.tensordot(env, boundary[j], axes=([0, env.ndim - 1], [0, 1])),
                          -1, 0)
        peak = np.max(np.abs(env))
        if peak == 0.0:
            return 0.0, -math.inf
        env, log_scale = env / peak, log_scale + math.log(peak)
    assert not open_layers and env.shape == (1,), (open_layers, env.shape)
    value = scale * env[0]
    return float(np.sign(value)), log_scale + math.log(abs(value))


def exact_gradient_moments(n: int, depth: int, cost: str, *,
                           parameter: tuple[int, int] = (0, 0)) -> dict:
    """The exact mean and variance of dC/dtheta[parameter] over angles uniform on
    [0, 2 pi), for the ``ry_cz`` brickwork of ``depth`` layers on ``n`` qubits, float64.

    Returns:
      ``{"mean", "second_moment", "variance", "ln_variance"}`` (floats; ``variance`` may
      underflow to 0 at hundreds of qubits, ``ln_variance`` does not).

    Raises:
      ValueError: n < 2, depth < 1 or above ``MAX_EXACT_DEPTH``, a parameter outside
      ``[depth, n]``, or an unknown cost.
    """
    if n < 2 or depth < 1:
        raise ValueError(f"need n >= 2 and depth >= 1; got n={n}, depth={depth}")
    if depth > MAX_EXACT_DEPTH:
        raise ValueError(f"exact gradient variance: depth {depth} > {MAX_EXACT_DEPTH}; its "
                         f"replica environment grows 16x per two layers (use the sampled "
                         f"estimate there)")
    layer, site = parameter
    if not (0 <= layer < depth and 0 <= site < n):
        raise ValueError(f"parameter {tuple(parameter)} is outside the angles [depth {depth}, "
                         f"n {n}]")
    sign_mean, ln_mean = replica_contraction(n, depth, 2, cost, parameter)
    sign_second, ln_second = replica_contraction(n, depth, 4, cost, parameter)
    ln_mean, ln_second = ln_mean + math.log(2.0), ln_second + math.log(4.0)
    if sign_second <= 0:
        raise ArithmeticError(f"E[(dC/dtheta)^2] = {sign_second * math.exp(ln_second):.3g} "
                              f"is not positive (n {n}, depth {depth}, {cost})")
    ratio = math.exp(2 * ln_mean - ln_second)                          # mean^2 / E[g^2]
    ln_variance = ln_second + math.log1p(-ratio) if ratio < 1 else -math.inf
    return {"mean": sign_mean * math.exp(ln_mean), "second_moment": math.exp(ln_second),
            "variance": math.exp(ln_variance), "ln_variance": ln_variance}
