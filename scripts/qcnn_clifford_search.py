"""Search the QCNN's circuit family for a Clifford circuit whose read-out is an SPT string order.

    PYTHONPATH=$PWD python scripts/qcnn_clifford_search.py [--sizes 8 16 32]

Cong, Choi & Lukin's exact QCNN reads a string order of the cluster state. This asks whether
ours (qtnet.tn.ttn.pooling: pair, cross, pooling and final gates, each shared over its level)
can: with Clifford gates the read-out C^dag Z_0 C is a Pauli string, tracked backwards gate by
gate (Heisenberg picture), and a string order is a product of the chain's stabilisers
K_i = Z_(i-1) X_i Z_(i+1), i = 1 .. n-2 (its X part on T, its Z part on the neighbours of T;
edges 0 and n-1 outside T, so the value does not depend on the edge states). The search: the
pair gate over the whole two-qubit Clifford group (11520), cross gates (the same at every
level) from 40 (I, CZ, CNOT either way, SWAP, with H on either qubit before or after), pooling
and final gates from 12 controlled gates |0><0| (x) U + |1><1| (x) U P (U in I, H, S; P a
Pauli); a hit must hold at every size given.

``--per-level`` lets the last level's gates differ from the lower levels' (the model's gates
are per level): first every last level (cross from the 40, pooling and final gates from the
12) that reads a string order of the 4-site chain alone (n = 4), then, for each distinct
such read-out, the lower levels (cross over the whole Clifford group, pooling gates from the
12, the same at every lower level; the pair gate the identity) at every size given.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from qtnet.tn.ttn.pooling import PoolingCircuit, pooling_gates

PAULI = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1, -1])]
PAULI2 = np.array([np.kron(a, b) for a in PAULI for b in PAULI])          # index 4 a + b
H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
S = np.diag([1, 1j])


def pauli_images(gates):
    """``[G, 16]``: index of G^dag (P_a (x) P_b) G in PAULI2 (signs are not needed here).

    Raises:
      ValueError: a gate is not Clifford.
    """
    conj = np.einsum("gba,kbc,gcd->gkad", np.conj(gates), PAULI2, gates)
    coeff = np.einsum("jba,gkba->gkj", PAULI2.conj(), conj) / 4        # tr(P_j^dag M) / 4
    if not np.allclose(np.abs(coeff).max(-1), 1):
        raise ValueError("a gate does not map Paulis to Paulis")
    return np.abs(coeff).argmax(-1)


def clifford_group():
    """The 11520 two-qubit Cliffords (up to phase), by breadth-first products of generators."""
    gens = [np.kron(H, np.eye(2)), np.kron(np.eye(2), H), np.kron(S, np.eye(2)),
            np.kron(np.eye(2), S), np.diag([1, 1, 1, -1.0])]
    found, frontier = {}, [np.eye(4, dtype=complex)]

    def signed(g):           # the images of X1, Z1, X2, Z2 with their signs: one per Clifford
        images = np.conj(g).T @ PAULI2[[4, 12, 1, 3]] @ g
        return tuple(np.round(np.einsum("jba,kba->kj", PAULI2.conj(), images) / 4, 6).ravel())

    found[signed(frontier[0])] = frontier[0]
    while frontier:
        new = []
        for g in frontier:
            for gen in gens:
                m = gen @ g
                k = signed(m)
                if k not in found:
                    found[k] = m
                    new.append(m)
        frontier = new
    return np.array(list(found.values()))


def small_gates():
    """The 40 cross / pair candidates and the 12 controlled (pooling, final) candidates."""
    cz, cx, xc, sw = (np.diag([1, 1, 1, -1.0]), np.eye(4)[[0, 1, 3, 2]],
                      np.eye(4)[[0, 3, 2, 1]], np.eye(4)[[0, 2, 1, 3]])
    two = []
    for a, b in itertools.product([np.eye(2), H], repeat=2):
        for e in (np.eye(4), cz, cx, xc, sw):
            two += [np.kron(a, b) @ e, e @ np.kron(a, b)]
    controlled = []
    for u, p in itertools.product([np.eye(2), H, S], PAULI):
        g = np.zeros((4, 4), complex)
        g[:2, :2], g[2:, 2:] = u, u @ p
        controlled.append(g)
    return np.array(two), np.array(controlled)


def shared(tokens, n):
    """The circuit of tokens with each gate the same at every level."""
    levels = int(np.log2(n))
    return PoolingCircuit(np.array(tokens["pair"]), np.full(levels - 1, tokens["cross"]),
                          np.full(levels - 1, tokens["pool_left"]),
                          np.full(levels - 1, tokens["pool_right"]), np.array(tokens["final"]))


def last_level_apart(lower, last, n):
    """The circuit of tokens with the last level's gates (``last``) apart from the lower
    levels' (``lower``, the same at every lower level, and the pair gate)."""
    below = int(np.log2(n)) - 2
    per_level = [np.array(([lower[g]] * below if below else []) + [last[g]])
                 for g in ("cross", "pool_left", "pool_right")]
    return PoolingCircuit(np.array(lower["pair"]), *per_level, np.array(last["final"]))


def read_out(images, circuit, n):
    """``[candidates, n]`` Pauli indices of C^dag Z_0 C of a circuit of tokens (indices into
    ``images``) for every candidate of the gate that carries token -1 (its images:
    ``images[-1]``, shape ``[candidates, 16]``)."""
    tokens = [int(t) for t, _ in pooling_gates(circuit, n)]
    many = images[-1] if -1 in tokens else images[-1][:1]
    o = np.zeros((len(many), n), int)
    o[:, 0] = 3
    for token, (a, b) in reversed(pooling_gates(circuit, n)):          # Heisenberg picture
        k = 4 * o[:, a] + o[:, b]
        k = many[np.arange(len(many)), k] if int(token) == -1 else images[int(token)][k]
        o[:, a], o[:, b] = k // 4, k % 4
    return o


def is_string_order(o):
    """Which rows are products of K_i over a non-empty T inside 1 .. n-2."""
    x, z = (o == 1) | (o == 2), (o == 2) | (o == 3)
    neighbours = np.zeros_like(x)
    neighbours[:, :-1] ^= x[:, 1:]
    neighbours[:, 1:] ^= x[:, :-1]
    return ~x[:, 0] & ~x[:, -1] & x.any(1) & (neighbours == z).all(1)


def search_shared(images, sizes, n_two, n_controlled, n_group):
    """Every gate the same at every level: ``[(tokens, pair Clifford), ...]`` that hit."""
    hits, c0 = [], n_two
    for cross, left, right, final in itertools.product(range(n_two), *[range(
            c0, c0 + n_controlled)] * 3):
        tokens = {"pair": -1, "cross": cross, "pool_left": left, "pool_right": right,
                  "final": final}
        ok = np.ones(n_group, bool)
        for n in sizes:
            ok &= is_string_order(read_out(images, shared(tokens, n), n))
            if not ok.any():
                break
        hits += [(tokens, int(i)) for i in np.nonzero(ok)[0]]
    return hits, n_two * n_controlled ** 3 * n_group


def search_last_level_apart(images, sizes, n_two, n_controlled, n_group, identity):
    """The last level apart (see the module's doc): ``[(lower, last, cross Clifford), ...]``
    that hit, and how many circuits were tried."""
    c0, lasts, strings = n_two, {}, set()
    for cross, left, right, final in itertools.product(range(n_two), *[range(
            c0, c0 + n_controlled)] * 3):
        last = {"cross": cross, "pool_left": left, "pool_right": right, "final": final}
        o = read_out(images, last_level_apart({"pair": identity}, last, 4), 4)
        if is_string_order(o)[0]:
            lasts.setdefault(tuple(o[0]), last)
    print(f"{len(lasts)} distinct string orders read by a last level alone (n = 4)")
    hits, tried = [], 0
    for last in lasts.values():
        for left, right in itertools.product(range(c0, c0 + n_controlled), repeat=2):
            lower = {"pair": identity, "cross": -1, "pool_left": left, "pool_right": right}
            ok = np.ones(n_group, bool)
            for n in sizes:
                o = read_out(images, last_level_apart(lower, last, n), n)
                ok &= is_string_order(o)
                if not ok.any():
                    break
            tried += n_group
            hits += [(lower, last, int(i)) for i in np.nonzero(ok)[0]]
            strings.update("".join("IXYZ"[p] for p in o[i]) for i in np.nonzero(ok)[0])
    print(f"the read-outs at n = {sizes[-1]}: {sorted(strings)}")
    return hits, tried


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--per-level", action="store_true",
                        help="the last level's gates apart from the lower levels'")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    group = clifford_group()
    two, controlled = small_gates()
    fixed = list(two) + list(controlled) + [np.eye(4)]
    images = {i: row for i, row in enumerate(pauli_images(np.array(fixed)))}
    images[-1] = pauli_images(group)
    print(f"{len(group)} Cliffords ({time.perf_counter() - start:.0f} s)", flush=True)
    if args.per_level:
        hits, tried = search_last_level_apart(images, args.sizes, len(two), len(controlled),
                                              len(group), identity=len(fixed) - 1)
    else:
        hits, tried = search_shared(images, args.sizes, len(two), len(controlled), len(group))
    print(f"{tried} circuits, {len(hits)} read a string order at n = {args.sizes} "
          f"({time.perf_counter() - start:.0f} s)")
    for hit in hits[:20]:
        print(f"  {hit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
