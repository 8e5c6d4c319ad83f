"""Table 1's decision-accuracy gap, examined: one SIGN training run (Cora, the paper's
protocol) whose decision problem is read out three ways at every evaluation — raw mean
logits (the paper), mean softmax probabilities, and predicted-class counts — each selected
at its own best validation epoch; plus the raw read-out averaged over all evaluations.

    python scripts/decision_readouts.py poly|prelu SEED
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from qtnet.data import load_node_dataset
from qtnet.data.features import sign_hops
from qtnet.models.sign import SIGN
from qtnet.training.decision import decision_accuracy

READOUTS = {
    "raw": lambda z: z,
    "softmax": lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(
        z - z.max(1, keepdims=True)).sum(1, keepdims=True),
    "counts": lambda z: np.eye(z.shape[1])[z.argmax(1)],
}


def main(activation: str, seed: int, epochs: int = 1000) -> None:
    data = load_node_dataset("cora")
    x, y = jnp.asarray(sign_hops(data, 5)), jnp.asarray(data.labels)
    model = SIGN(x.shape[2], data.n_classes, hops=5, hidden=512, activation=activation,
                 rngs=nnx.Rngs(params=seed))
    graphdef, params = nnx.split(model, nnx.Param)
    params = nnx.to_pure_dict(params)
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)
    train = jnp.asarray(data.train)

    @jax.jit
    def step(p, s, key):
        def loss(q):
            logits = nnx.merge(graphdef, q)(x[train], key=key)["logits"]
            return optax.softmax_cross_entropy_with_integer_labels(logits, y[train]).mean()
        updates, s = tx.update(jax.grad(loss)(p), s, p)
        return optax.apply_updates(p, updates), s

    logits_of = jax.jit(lambda p, idx: nnx.merge(graphdef, p)(x[idx])["logits"])
    labels = np.asarray(data.labels)
    splits = {"val": data.val, "test": data.test}
    key, rows = jax.random.PRNGKey(seed), []
    for epoch in range(1, epochs + 1):
        params, opt_state = step(params, opt_state, jax.random.fold_in(key, epoch))
        if epoch % 10 == 0:
            z = {k: np.asarray(logits_of(params, jnp.asarray(v))) for k, v in splits.items()}
            rows.append({"epoch": epoch, **{f"{split}_{name}": decision_accuracy(
                f(z[split]), labels[splits[split]], data.n_classes)
                for split in splits for name, f in READOUTS.items()}})
    out = [activation, seed]
    for name in READOUTS:
        best = max(rows, key=lambda r: r[f"val_{name}"])          # first maximum
        out += [name, best["epoch"], round(100 * best[f"test_{name}"], 1)]
    out += ["raw averaged", round(100 * np.mean([r["test_raw"] for r in rows]), 1)]
    print(*out, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
