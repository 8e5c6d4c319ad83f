"""Deep polynomial layers trained end to end through the MPS backend: a student with L
degree-2 layers (degree 2^L) learns a teacher of the same form on grid hop features.

    python scripts/deep_poly_demo.py [--node-qubits 12] [--layers 2] [--max-bond 16]
        [--steps 300] [--train-nodes 1024]

The data state is the k = 1 hop slice T|X> of a periodic grid (random bond-4 feature MPS,
3 feature qubits). The teacher's labels come from the dense model (so the node register is
kept small enough for a statevector); the student's forward pass and gradients are MPS
operations only (MPO layers, Hadamard products, compressions to the bond cap).
"""

from __future__ import annotations

import argparse
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qtnet import tn
from qtnet.gnn.deep import dense_logits, init_params, logits_at
from qtnet.gnn.synthetic import grid_propagation_mpo, node_bits
from qtnet.gnn.teacher import balancing_offsets

FEAT, CLASSES = 3, 4


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-qubits", type=int, default=12)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--max-bond", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--train-nodes", type=int, default=1024)
    parser.add_argument("--learning-rate", type=float, default=0.03)
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)

    n = args.node_qubits
    x = tn.random_mps(jax.random.PRNGKey(0), n + FEAT, 4, max_bond=args.max_bond,
                      dtype=jnp.float64)
    t_mpo = tn.mpo_embed(grid_propagation_mpo(n // 2), 0, n + FEAT)
    psi = tn.scale(tn.apply_mpo(t_mpo, x, max_bond=args.max_bond), math.sqrt(2.0**n))
    dense_x = np.asarray(tn.to_dense(psi)).reshape(2**n, 2**FEAT)
    teacher = init_params(jax.random.PRNGKey(7), args.layers, FEAT, scale=1.0)
    z = np.asarray(dense_logits(teacher, dense_x, CLASSES))
    labels = np.argmax(z + balancing_offsets(z), -1)

    order = np.random.default_rng(0).permutation(2**n)
    train, test = order[:args.train_nodes], order[args.train_nodes:][:4096]
    train_bits, test_bits = (jnp.asarray(node_bits(i, n)) for i in (train, test))
    y_train, y_test = jnp.asarray(labels[train]), labels[test]
    params = init_params(jax.random.PRNGKey(1), args.layers, FEAT)
    tx = optax.adam(args.learning_rate)
    state = tx.init(params)

    def logits(p, bits):
        return logits_at(p, psi, bits, n, CLASSES, max_bond=args.max_bond)

    @jax.jit
    def step(p, s):
        value, grads = jax.value_and_grad(lambda q: optax.softmax_cross_entropy_with_integer_labels(
            logits(q, train_bits), y_train).mean())(p)
        updates, s = tx.update(grads, s, p)
        return optax.apply_updates(p, updates), s, value

    accuracy = jax.jit(lambda p: jnp.argmax(logits(p, test_bits), -1))
    start = time.perf_counter()
    for i in range(args.steps):
        params, state, value = step(params, state)
        if i == 0:
            compiled = time.perf_counter() - start
        if (i + 1) % 50 == 0 or i + 1 == args.steps:
            acc = float(np.mean(np.asarray(accuracy(params)) == y_test))
            print(f"step {i + 1}: loss {float(value):.4f}, held-out agreement {acc:.4f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    print(f"{n} node qubits + {FEAT} feature qubits, {args.layers} layers (degree "
          f"{2 ** args.layers}), bond {args.max_bond}: first step (compile) {compiled:.1f} s, "
          f"{args.steps} steps in {time.perf_counter() - start:.0f} s; classes "
          f"{np.bincount(labels, minlength=CLASSES).tolist()}")


if __name__ == "__main__":
    main()
