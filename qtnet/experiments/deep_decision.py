"""The paper's communication-cheap global read-out at scale, for a trained deep circuit
(``model.type: deep_sign`` on ``data.type: grid_deep``): the decision problem on node sets S.

For each set S (a sub-grid: the high bits of each axis fixed at random, the low
``free_qubits / 2`` of each axis free; on a Kronecker graph the low ``free_qubits`` bits), class
c's mean logit over S is one overlap, ``z̄_c = <u_S, c|ψ_out> / |S| + b_c`` with u_S the sum of
S's basis states (a product state: never a vector of |S| entries). The decision is, for every
class pair i < j, ``z̄_i > z̄_j``; its truth is whether the teacher labels more of S's nodes i
than j, counted on ``sample`` nodes drawn from S (S holds up to 2^62 nodes). Reported: the
student's and the teacher's decision accuracy against those counts, the student's agreement
with the teacher's own decisions, and what the read-out costs (C overlaps per set against a
node-by-node read-out of the sample). Registered as the trainer's ``decision`` task.
"""

from __future__ import annotations

import json
import time

import jax
import numpy as np

from qtnet.comm import flops as F
from qtnet.comm.deep_ledger import deep_sign_handoff
from qtnet.config import ConfigError
from qtnet.gnn.deep import amplitudes_at, amplitudes_of
from qtnet.models.deep_sign import DeepSign
from qtnet.training.hooks import FinishedRun, register_task
from qtnet.training.setup import Setup


def free_bits(n_node: int, free: int, graph: str) -> np.ndarray:
    """Positions (site order, most significant first) of the node bits S leaves free."""
    if graph.startswith("periodic grid"):
        b = n_node // 2
        per_axis = free // 2
        return np.concatenate([np.arange(b - per_axis, b), np.arange(2 * b - per_axis, 2 * b)])
    return np.arange(n_node - free, n_node)


def node_sets(rng, n_node: int, free: np.ndarray, count: int) -> np.ndarray:
    """``[count, n_node, 2]`` local vectors of ``count`` random sets: one-hot on the fixed
    bits (random), ``(1, 1)`` on the free ones."""
    bits = rng.integers(0, 2, size=(count, n_node))
    vectors = np.eye(2)[bits]
    vectors[:, free] = 1.0
    return vectors


def sample_from(rng, vectors: np.ndarray, free: np.ndarray, size: int) -> np.ndarray:
    """``[size, n_node]`` bits of nodes drawn uniformly from the set ``vectors``."""
    bits = np.broadcast_to(vectors[:, 1].astype(np.int32), (size, len(vectors))).copy()
    bits[:, free] = rng.integers(0, 2, size=(size, len(free)))
    return bits


def evaluate_decision(model: DeepSign, teacher_state, teacher_offsets, *, graph: str,
                      sets: int, free_qubits: int, sample: int, seed: int = 0,
                      bits: int = 32) -> dict:
    """The decision problem on ``sets`` random node sets of ``2^free_qubits`` nodes."""
    n_node, n_classes = model.node_qubits, model.n_classes
    free = free_bits(n_node, free_qubits, graph)
    rng = np.random.default_rng(seed)
    vectors = node_sets(rng, n_node, free, sets)
    size = 2.0 ** len(free)
    out = jax.jit(model.output_state)()
    offsets = np.asarray(teacher_offsets)
    mean = jax.jit(lambda s, v: amplitudes_of(s, v, n_classes))
    student = np.asarray(mean(out, vectors)) / size + np.asarray(model.b_out[...])
    teacher = np.asarray(mean(teacher_state, vectors)) / size + offsets
    read = jax.jit(lambda b: amplitudes_at(teacher_state, b, n_classes))
    i, j = np.triu_indices(n_classes, k=1)
    truth, majority = [], []
    for v in vectors:
        labels = np.argmax(np.asarray(read(sample_from(rng, v, free, sample))) + offsets, -1)
        counts = np.bincount(labels, minlength=n_classes)
        truth.append(counts[i] > counts[j])
        majority.append(counts.argmax())
    truth = np.array(truth)
    said = student[:, i] > student[:, j]
    said_teacher = teacher[:, i] > teacher[:, j]
    n, chi = out.n_sites, out.bond_cap
    handoff = deep_sign_handoff(n_sites=n, layers=model.w.shape[0], max_bond=chi, bits=bits)
    per_read = F.product_overlap(n, chi)
    return {
        "sets": sets, "nodes_per_set": int(size), "free_qubits": int(len(free)),
        "sample_per_set": sample, "class_pairs": int(len(i)),
        "decision_accuracy_student": float(np.mean(said == truth)),
        "decision_accuracy_teacher": float(np.mean(said_teacher == truth)),
        "student_teacher_agreement": float(np.mean(said == said_teacher)),
        "majority_class_agreement": float(np.mean(student.argmax(1) == np.array(majority))),
        "readout": {"overlaps_per_set": n_classes, "flops_per_set": n_classes * per_read,
                    "node_by_node_overlaps": sample * n_classes,
                    "node_by_node_flops": sample * n_classes * per_read,
                    "quantum_qubits_per_set": n_classes * handoff["quantum_qubits"],
                    "classical_bits_dense": handoff["classical_bits"],
                    "classical_mps_bits": handoff["classical_mps_bits"]},
    }


@register_task("decision")
class DeepDecision:
    """After training: the decision problem on node sets, read from the best checkpoint."""

    def check(self, setup: Setup) -> None:
        data, decision = setup.data, setup.config.decision
        if getattr(data, "teacher_state", None) is None:
            raise ConfigError("decision.evaluate: the decision problem at scale needs a "
                              "teacher circuit's output state (data.type: grid_deep, "
                              "model.type: deep_sign)")
        n_node = data.sample_shape[0]
        if decision.free_qubits > n_node:
            raise ConfigError(f"decision.free_qubits: a node set cannot leave "
                              f"{decision.free_qubits} bits free on a {n_node}-qubit node "
                              f"register")
        if data.info["graph"].startswith("periodic grid") and decision.free_qubits % 2:
            raise ConfigError(f"decision.free_qubits: a sub-grid frees the same number of "
                              f"bits on both axes; expected an even number, got "
                              f"{decision.free_qubits}")

    def after_training(self, run: FinishedRun) -> dict:
        step = run.best_step("accuracy")
        model = run.setup.model(run.restore(step).params)
        data, decision = run.setup.data, run.config.decision
        start = time.perf_counter()
        result = evaluate_decision(model, data.teacher_state, data.info["teacher_offsets"],
                                   graph=data.info["graph"], sets=decision.sets,
                                   free_qubits=decision.free_qubits, sample=decision.sample,
                                   seed=run.config.training.seed,
                                   bits=run.config.metering.bits)
        result.update(step=step, seconds=time.perf_counter() - start)
        (run.workdir / "decision.json").write_text(json.dumps(result, indent=1))
        r = result["readout"]
        run.echo(f"decision (step {step}, {decision.sets} sets of 2^{decision.free_qubits} "
                 f"nodes, {result['seconds']:.0f} s): accuracy "
                 f"{result['decision_accuracy_student']:.3f} "
                 f"(teacher's own read-out {result['decision_accuracy_teacher']:.3f}), agreement "
                 f"with the teacher's decisions {result['student_teacher_agreement']:.3f}; "
                 f"{r['overlaps_per_set']} overlaps per set ({r['flops_per_set']:.3g} FLOPs) "
                 f"against {r['node_by_node_overlaps']} node by node")
        return result
