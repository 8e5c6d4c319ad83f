"""Gradient inversion against a Figure 2 classifier, with and without DP-SGD: how well a
client's one-example gradient reveals the example, against the privacy budget epsilon.

The victim is the model at its initial parameters (the global model a client receives in round
1). For each epsilon the noise multiplier is the one the RDP accountant calibrates for a client
of average size in the given federated run (sampling rate batch / (n / clients), rounds x local
steps); the attacker sees that example's DP-SGD release (clipped, plus Gaussian noise) and
knows the clipping norm. The quantum comparison is Holevo's: a copy of the n-qubit data state
carries at most n bits, whereas the gradient carries its parameters at ``bits`` each.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import numpy as np

from qtnet.privacy import accountant, invert_gradient, private_gradient, sample_gradient
from qtnet.training import build_setup


@dataclasses.dataclass(frozen=True)
class AttackPoint:
    epsilon: float | None          # None: no DP
    noise_multiplier: float | None
    cosine: float
    mse: float


def attack_sweep(run, epsilons, *, samples: int = 3, steps: int = 300, restarts: int = 3,
                 seed: int = 0) -> dict:
    """Attack ``samples`` training examples at every epsilon (and without DP).

    Args:
      run: a :class:`qtnet.federated.FederatedRun`: the model, data and the DP-SGD setting
        (clip norm, delta, batch size, rounds x local steps) whose noise the sweep calibrates.
      epsilons: the budgets to try.

    Returns:
      ``{"points": [...], "holevo_bits": n, "gradient_bits": P * b, ...}``: the median cosine
      and MSE over the samples at each point.
    """
    setup = build_setup(run.config)
    graphdef, params = setup.graphdef, setup.state.params
    fed, t, priv = run.federated, run.config.training, run.privacy
    n_local = len(setup.data.y_train) // fed.clients
    q, total_steps = t.batch_size / n_local, fed.rounds * fed.local_steps
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(setup.data.y_train), samples, replace=False)
    n_features = setup.data.n_features
    points = []
    for eps in [None, *epsilons]:
        sigma = None if eps is None else accountant.noise_for_epsilon(eps, q, total_steps,
                                                                      priv.delta)
        cos, mse = [], []
        for k, row in enumerate(rows):
            x, y = setup.data.x_train[row], int(setup.data.y_train[row])
            grads = sample_gradient(graphdef, params, x, y)
            if sigma is not None:
                grads = private_gradient(grads, priv.clip_norm, sigma,
                                         jax.random.PRNGKey(seed * 100 + k))
            got = invert_gradient(graphdef, params, grads, y, n_features, steps=steps,
                                  restarts=restarts, seed=seed + k,
                                  clip_norm=None if sigma is None else priv.clip_norm,
                                  x_true=x)
            cos.append(got.cosine)
            mse.append(got.mse)
        points.append(AttackPoint(eps, sigma, float(np.median(cos)), float(np.median(mse))))
    model = setup.model()
    n_params = sum(int(np.size(p)) for p in jax.tree.leaves(params))
    return {"points": [dataclasses.asdict(p) for p in points], "samples": samples,
            "n_features": n_features, "holevo_bits": int(model.n_qubits),
            "gradient_bits": n_params * fed.bits, "sampling_rate": q, "steps": total_steps,
            "delta": priv.delta, "clip_norm": priv.clip_norm}


def write_sweep(result: dict, out: str | Path) -> None:
    """``attack.json`` and ``attack.png`` (reconstruction cosine against epsilon) in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "attack.json").write_text(json.dumps(result, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dp = [p for p in result["points"] if p["epsilon"] is not None]
    plain = next(p for p in result["points"] if p["epsilon"] is None)
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.plot([p["epsilon"] for p in dp], [p["cosine"] for p in dp], "o-", label="DP-SGD")
    ax.axhline(plain["cosine"], ls="--", c="k", label="no DP")
    ax.set_xscale("log")
    ax.set_xlabel(f"epsilon (delta = {result['delta']:g})")
    ax.set_ylabel("|cos(x, x_reconstructed)|")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "attack.png", dpi=110)
    plt.close(fig)
