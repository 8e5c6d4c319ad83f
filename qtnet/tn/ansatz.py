"""Brickwork ansätze by name: their parameter shapes and the gate arrays they make."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from qtnet.tn.gates import FIXED_2Q, ry, su4
from qtnet.tn.shapes import Angles, BrickworkPairs, BrickworkSingles

ANSATZE = ("ry_cz", "su4")
"""``ry_cz``: RY on every qubit, then CZ bricks (real amplitudes); ``su4``: a general
two-qubit gate per brick (15 angles each; needs a complex dtype)."""

SHIFT_RULE_ANSATZE = ("ry_cz",)
"""Ansätze whose gates are all exp(-i theta G / 2) with G^2 = 1 (parameter shift is exact)."""


def check_ansatz(ansatz: str, what: str = "ansatz") -> None:
    """Raise a ValueError naming the valid ansätze unless ``ansatz`` is one of them."""
    if ansatz not in ANSATZE:
        raise ValueError(f"unknown {what} {ansatz!r}; choose one of {', '.join(ANSATZE)}")


def ansatz_param_shape(ansatz: str, depth: int, k: int) -> tuple[int, ...]:
    """Angle array shape of ``depth`` brickwork layers on ``k`` qubits."""
    check_ansatz(ansatz)
    return (depth, k) if ansatz == "ry_cz" else (depth, k // 2, 15)


def brickwork_gates(angles: Angles, ansatz: str, k: int
                    ) -> tuple[BrickworkSingles, BrickworkPairs]:
    """``(single [depth, k, 2, 2], pairs [depth, k // 2, 4, 4])`` of a brickwork on ``k``
    qubits (layer l pairs from site l mod 2).

    Raises:
      ValueError: ``angles`` do not have :func:`ansatz_param_shape`.
    """
    depth = angles.shape[0]
    want = ansatz_param_shape(ansatz, depth, k)
    if tuple(angles.shape) != want:
        layout = f"(depth, {k})" if ansatz == "ry_cz" else f"(depth, {k // 2}, 15)"
        raise ValueError(f"{ansatz} angles for {k} qubits have shape {layout}, got "
                         f"{angles.shape}")
    if ansatz == "ry_cz":
        return ry(angles), jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"]), (depth, k // 2, 4, 4))
    return jnp.broadcast_to(jnp.eye(2), (depth, k, 2, 2)), su4(angles)


def embed_brickwork(angles: Angles, ansatz: str, start: int, k: int, n: int,
                    dtype) -> tuple[BrickworkSingles, BrickworkPairs]:
    """Full-width brickwork arrays ``(single, pairs)`` for a register of ``k`` qubits at site
    ``start`` of ``n``; identity elsewhere (``depth2`` is ``depth + start % 2``).

    Layer ``l`` of the register pairs sites ``start + l % 2 + 2j``; the engine's global layer
    ``g`` pairs from ``g % 2``, so a register at an odd site is shifted by one (empty) layer.
    """
    depth = angles.shape[0]
    local_single, local_pairs = brickwork_gates(angles, ansatz, k)
    shift = start % 2
    total = depth + shift
    single = jnp.broadcast_to(jnp.eye(2, dtype=dtype), (total, n, 2, 2))
    pairs = jnp.broadcast_to(jnp.eye(4, dtype=dtype), (total, n // 2, 4, 4))
    single = single.at[shift:, start:start + k].set(local_single.astype(dtype))
    # Static index bookkeeping (numpy), then one scatter: the program does not grow with depth.
    src_layer, src_pair, dst_layer, dst_pair = [], [], [], []
    for layer in range(depth):
        g, first, used = layer + shift, start + layer % 2, (k - layer % 2) // 2
        src_layer += [layer] * used
        src_pair += list(range(used))
        dst_layer += [g] * used
        dst_pair += list(range((first - g % 2) // 2, (first - g % 2) // 2 + used))
    if src_layer:
        bricks = local_pairs[np.array(src_layer), np.array(src_pair)].astype(dtype)
        pairs = pairs.at[np.array(dst_layer), np.array(dst_pair)].set(bricks)
    return single, pairs
