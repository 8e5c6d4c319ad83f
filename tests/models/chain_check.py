"""Run with XLA_FLAGS=--xla_force_host_platform_device_count=4 (tests/models/test_chain.py):
the split-learning chain trained by the ordinary trainer with each party on its own device,
and the same chain trained in one piece (float64); prints the comparison as JSON."""

import json
import sys
import tempfile
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from qtnet.config import Config, load  # noqa: E402
from qtnet.training import build_setup, train  # noqa: E402
from qtnet.training.checkpoint import Checkpoints  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = ["training.steps=3", "training.batch_size=8", "training.eval_every=3",
        "checkpoint.every=3", "backend.dtype=float64", "model.rounds=2", "model.depth=1",
        # plain SGD: Adam divides by sqrt(v), which turns last-bit differences of a
        # near-zero gradient into visible parameter differences
        "optimizer.name=sgd", "optimizer.learning_rate=0.2"]


def run(workdir: Path, placement: str, steps: int = 3):
    config = load(Config, ROOT / "configs" / "split_chain_digits.yaml",
                  [*TINY, f"model.placement={placement}", f"training.steps={steps}"])
    result = train(config, workdir, echo=lambda *_: None)
    template = build_setup(config).state
    _, state, _ = Checkpoints(workdir / "checkpoints", config.checkpoint,
                              read_only=True).restore(template)
    return result, state


def main():
    assert len(jax.devices()) == 4, jax.devices()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        split, split_state = run(tmp / "split", "devices")
        whole, whole_state = run(tmp / "whole", "one")
        a, b = split_state.params["angles"], whole_state.params["angles"]
        out["angles_devices"] = len(a.devices())
        out["param_diff"] = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        out["param_moved"] = float(np.max(np.abs(np.asarray(a) - np.asarray(
            build_setup(load(Config, ROOT / "configs" / "split_chain_digits.yaml", TINY))
            .state.params["angles"]))))
        out["loss_diff"] = abs(split.train_metrics["loss"] - whole.train_metrics["loss"])
        out["eval_diff"] = abs(split.eval_metrics["loss"] - whole.eval_metrics["loss"])
        out["comm"] = {k: v for k, v in split.train_metrics.items() if k.startswith("comm_")}
        # resume the split run on its devices: 3 more steps, against 6 steps in one piece
        resumed, resumed_state = run(tmp / "split", "devices", steps=6)
        _, straight_state = run(tmp / "straight", "one", steps=6)
        out["resumed_from"] = resumed.resumed_from
        out["resume_diff"] = float(np.max(np.abs(np.asarray(resumed_state.params["angles"])
                                                 - np.asarray(straight_state.params["angles"]))))
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
