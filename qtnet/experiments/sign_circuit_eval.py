"""A trained SIGN, evaluated as a circuit: logits against the classical model, node and
decision accuracy, and the communication report (node read-outs and the decision problem).

Everything goes to ``<run>/circuit/``: ``circuit.json``, ``comm_nodes.*``, ``comm_decision.*``
and ``logits.png`` (circuit against classical logits). Registered as the trainer's
after-training task ``circuit`` (config: ``circuit.evaluate: true``): the best checkpoint of a
polynomial SIGN run on a graph is evaluated this way.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jax
import numpy as np

from qtnet.comm import Estimator
from qtnet.config import ConfigError
from qtnet.data.features import sign_hops, sign_operator
from qtnet.experiments.decision import decision_accuracy
from qtnet.gnn.sign_circuit import SignCircuit, SignWeights
from qtnet.models.sign import SIGN
from qtnet.training.hooks import FinishedRun, register_task
from qtnet.training.setup import Setup


def classical_logits(hop_features: np.ndarray, w: SignWeights) -> np.ndarray:
    """The SIGN model's evaluation-mode logits in float64 numpy (the reference)."""
    t = np.einsum("nkf,kfh->nkh", hop_features.astype(np.float64), w.w.astype(np.float64))
    t = t + w.b
    c = w.coef.astype(np.float64)
    h = c[None, :, 0, None] + c[None, :, 1, None] * t + c[None, :, 2, None] * t * t
    return h.reshape(len(h), -1) @ w.w_out + w.b_out


def evaluate_sign_circuit(model, graph, hop_features: np.ndarray, *, epsilon: float = 0.01,
                          delta: float = 0.05, self_loops: bool = True,
                          out_dir: str | Path | None = None) -> dict:
    """Evaluate ``model`` (a trained polynomial :class:`~qtnet.models.sign.SIGN`) on ``graph``
    (a :class:`~qtnet.data.NodeDataset`) as a circuit on the dense backend, in float64
    (``self_loops``: the T the hop features were made with)."""
    weights = SignWeights.from_model(model)
    with jax.enable_x64(True):
        circuit = SignCircuit(sign_operator(graph.adjacency, self_loops=self_loops),
                              hop_features[:, 0], weights)
        out = circuit.output_dense()
        logits = np.asarray(out[:circuit.n_nodes, :circuit.n_classes]) + weights.b_out
        test = np.asarray(graph.test)
        decision_mean = np.asarray(circuit.decision_means(test, out))
    reference = classical_logits(hop_features, weights)
    labels = np.asarray(graph.labels)
    rel = float(np.max(np.abs(logits - reference)) / np.max(np.abs(reference)))
    counts = np.bincount(labels[test], minlength=graph.n_classes)
    i, j = np.triu_indices(graph.n_classes, k=1)
    estimator = Estimator(epsilon, delta)
    # per-node logits: one estimate per (test node, class); the decision problem: one mean
    # logit per class, read as a single overlap with the uniform state on the test set
    reports = {"nodes": circuit.comm_report(estimator, "nodes", len(test) * graph.n_classes),
               "decision": circuit.comm_report(estimator, "decision", graph.n_classes)}
    result = {
        "max_relative_difference": rel,
        "test_accuracy_circuit": float(np.mean(logits[test].argmax(1) == labels[test])),
        "test_accuracy_classical": float(np.mean(reference[test].argmax(1) == labels[test])),
        "decision_accuracy_circuit": float(np.mean(
            (decision_mean[i] - decision_mean[j] > 0) == (counts[i] > counts[j]))),
        "decision_accuracy_classical": decision_accuracy(reference[test], labels[test],
                                                         graph.n_classes),
        "qubits": circuit.layout.n_qubits,
        "registers": {r.name: r.n_qubits for r in circuit.layout.registers},
        "sub_normalisations": circuit.sub_normalisations(),
        "epsilon": epsilon, "delta": delta,
        "comm": {kind: r.totals() for kind, r in reports.items()},
    }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "circuit.json").write_text(json.dumps(result, indent=1))
        for kind, report in reports.items():
            report.to_json(out / f"comm_{kind}.json")
            report.to_csv(out / f"comm_{kind}.csv")
            report.plot(out / f"comm_{kind}.png")
        _plot_logits(reference, logits, out / "logits.png")
    return result


def _plot_logits(reference: np.ndarray, circuit: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(reference.ravel(), circuit.ravel(), s=2, alpha=0.4)
    lo, hi = float(reference.min()), float(reference.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_xlabel("classical SIGN logit")
    ax.set_ylabel("circuit logit  <v,0,c|W_out psi> + b")
    ax.set_title("SIGN as a circuit (dense backend, float64)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@register_task("circuit")
class CircuitEvaluation:
    """After training: the best checkpoint (by validation accuracy) evaluated as a circuit."""

    def check(self, setup: Setup) -> None:
        """Only a polynomial SIGN on a graph dataset has a circuit form."""
        model, data = setup.model(), setup.data
        if not (isinstance(model, SIGN) and model.activation == "poly" and data.graph):
            got = (f"{type(model).__name__} ({model.activation})" if isinstance(model, SIGN)
                   else type(model).__name__)
            raise ConfigError("circuit.evaluate: only a polynomial SIGN (model.type: sign, "
                              "model.activation: poly) on a graph dataset (data.type: cora) "
                              f"has a circuit form; got {got} on {data.name!r}")

    def after_training(self, run: FinishedRun) -> dict:
        step = run.best_step("accuracy")
        model = run.setup.model(run.restore(step).params)
        graph = run.setup.data.graph
        self_loops = getattr(run.config.data, "self_loops", True)   # only Planetoid has it
        hops = sign_hops(graph, model.w.shape[0] - 1, self_loops=self_loops,
                         dtype=np.float64)                            # every node
        circuit = run.config.circuit
        start = time.perf_counter()
        result = evaluate_sign_circuit(model, graph, hops, epsilon=circuit.epsilon,
                                       delta=circuit.delta, self_loops=self_loops,
                                       out_dir=run.workdir / "circuit")
        result.update(step=step, seconds=time.perf_counter() - start)
        comm = result["comm"]["decision"]
        run.echo(f"circuit (step {step}, {result['qubits']} qubits, {result['seconds']:.0f} s): "
                 f"logits match the classical model to {result['max_relative_difference']:.1e} "
                 f"(relative); test accuracy {result['test_accuracy_circuit']:.4f}, decision "
                 f"accuracy {result['decision_accuracy_circuit']:.4f}; decision problem: "
                 f"{comm['quantum_qubits']:.3g} qubits vs {comm['classical_bits']:.3g} "
                 f"classical bits; report in {run.workdir / 'circuit'}")
        return result
