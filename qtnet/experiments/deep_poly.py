"""Deep polynomial layers (:mod:`qtnet.gnn.deep`) trained end to end through the MPS backend,
with the trainer's step and loop: a student of L degree-2 layers learns a teacher of the same
form on grid hop features (``scripts/deep_poly_demo.py``).

The data state is the k = 1 hop slice T|X> of a periodic grid (random bond-4 feature MPS,
3 feature qubits). The teacher's labels come from the dense model (so the node register is
kept small enough for a statevector); the student's forward pass and gradients are MPS
operations only (MPO layers, Hadamard products, compressions to the bond cap).
"""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qtnet import tn
from qtnet.gnn.deep import dense_logits, init_params, logits_at
from qtnet.gnn.synthetic import grid_propagation_mpo, node_bits
from qtnet.data.grid import balancing_offsets
from qtnet.training.fit import fit
from qtnet.training.optim import make_optimizer
from qtnet.training.steps import make_train_step, new_state

FEAT, CLASSES = 3, 4


def deep_poly_demo(*, node_qubits: int = 12, layers: int = 2, max_bond: int = 16,
                   steps: int = 300, train_nodes: int = 1024, learning_rate: float = 0.03,
                   echo=print) -> dict:
    """Train the student with full-batch Adam and print progress every 50 steps.

    Turns on float64 for the process (``jax_enable_x64``).

    Returns:
      ``{"loss", "agreement", "compile_seconds", "seconds"}`` of the last step.
    """
    jax.config.update("jax_enable_x64", True)
    n = node_qubits
    x = tn.random_mps(jax.random.PRNGKey(0), n + FEAT, 4, max_bond=max_bond, dtype=jnp.float64)
    t_mpo = tn.mpo_embed(grid_propagation_mpo(n // 2), 0, n + FEAT)
    psi = tn.scale(tn.apply_mpo(t_mpo, x, max_bond=max_bond), math.sqrt(2.0**n))
    dense_x = np.asarray(tn.to_dense(psi)).reshape(2**n, 2**FEAT)
    teacher = init_params(jax.random.PRNGKey(7), layers, FEAT, scale=1.0)
    z = np.asarray(dense_logits(teacher, dense_x, CLASSES))
    labels = np.argmax(z + balancing_offsets(z), -1)

    order = np.random.default_rng(0).permutation(2**n)
    train, test = order[:train_nodes], order[train_nodes:][:4096]
    batch = {"bits": jnp.asarray(node_bits(train, n)), "y": jnp.asarray(labels[train])}
    test_bits, y_test = jnp.asarray(node_bits(test, n)), labels[test]
    tx = make_optimizer("adam", learning_rate)
    state = new_state(init_params(jax.random.PRNGKey(1), layers, FEAT), tx, seed=0)

    def logits(p, bits):
        return logits_at(p, psi, bits, n, CLASSES, max_bond=max_bond)

    def objective(_graphdef, params, batch, _key):
        value, grads = jax.value_and_grad(lambda q: optax.softmax_cross_entropy_with_integer_labels(
            logits(q, batch["bits"]), batch["y"]).mean())(params)
        return grads, {"loss": value}

    train_step = make_train_step(None, tx, objective=objective)
    predict = jax.jit(lambda p: jnp.argmax(logits(p, test_bits), -1))
    start = time.perf_counter()
    last = {}

    class Progress:
        def after_step(self, done, state, metrics, seconds):
            if done == 1:
                last["compile_seconds"] = time.perf_counter() - start
            if done % 50 == 0 or done == steps:
                acc = float(np.mean(np.asarray(predict(state.params)) == y_test))
                last.update(loss=metrics["loss"], agreement=acc)
                echo(f"step {done}: loss {metrics['loss']:.4f}, held-out agreement {acc:.4f} "
                     f"({time.perf_counter() - start:.0f} s)")

    fit(train_step, state, lambda _step: batch, start=0, stop=steps, hooks=[Progress()])
    last["seconds"] = time.perf_counter() - start
    echo(f"{n} node qubits + {FEAT} feature qubits, {layers} layers (degree {2 ** layers}), "
         f"bond {max_bond}: first step (compile) {last['compile_seconds']:.1f} s, {steps} steps "
         f"in {last['seconds']:.0f} s; classes {np.bincount(labels, minlength=CLASSES).tolist()}")
    return last
