"""Student bond χ against agreement and logged fidelity for the deep circuit on the 2^32-node
grid: one ordinary training run per χ (the trainer on ``configs/grid_2e32_deep.yaml``, student
Φ and circuit at χ), all in one process so that Alice's Φ and the teacher (at
``--teacher-bond``, the same for every χ) are built once; the first run's wall time includes
that build. Writes the table as JSON and the plot as PNG.

    python scripts/deep_chi_sweep.py [--chis 2,4,8,16] [--teacher-bond 16] [--steps 300]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def final(metrics: Path, split: str) -> dict:
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("split") == split][-1]


def run_one(chi: int, args, workdir: Path, trainer) -> dict:
    from qtnet.config import Config, load
    from qtnet.training import train

    overrides = [f"data.max_bond={chi}", f"backend.max_bond={chi}",
                 f"data.teacher_bond={args.teacher_bond}", f"training.steps={args.steps}",
                 f"training.eval_every={args.steps}", f"checkpoint.every={args.steps}",
                 f"optimizer.learning_rate={args.learning_rate}", "decision.evaluate=false"]
    start = time.perf_counter()
    train(load(Config, str(ROOT / args.config), overrides), workdir, force_restart=True,
          echo=lambda *_: None, trainer=trainer)
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    train_row, ev, test = (final(workdir / "metrics.jsonl", s) for s in ("train", "eval", "test"))
    return {"chi": chi, "wall_seconds": wall, "process_peak_rss_gb": rss,
            "eval_agreement": ev["accuracy"], "test_agreement": test["accuracy"],
            "fidelity": train_row["fidelity"], "final_loss": train_row["loss"]}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = rows
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    chis = [r["chi"] for r in ok]
    ax.plot(chis, [r["test_agreement"] for r in ok], "o-", label="test agreement")
    ax.plot(chis, [r["eval_agreement"] for r in ok], "s--", label="eval agreement")
    ax.plot(chis, [r["fidelity"] for r in ok], "^:", label="logged fidelity")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("student bond χ")
    ax.set_ylim(0, 1.02)
    ax.set_title("deep SIGN circuit (L = 3) on the 2^32-node grid")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/grid_2e32_deep.yaml")
    parser.add_argument("--chis", default="2,4,8,16")
    parser.add_argument("--teacher-bond", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=0.02)
    parser.add_argument("--workdir", default="bench_results/deep_chi_sweep")
    parser.add_argument("--out", default="docs/deep_chi_sweep")
    args = parser.parse_args(argv)

    from qtnet.training import Trainer

    trainer, rows = Trainer(), []
    for chi in (int(c) for c in args.chis.split(",")):
        row = run_one(chi, args, Path(args.workdir) / f"chi{chi}", trainer)
        print(json.dumps(row), flush=True)
        rows.append(row)
        out = Path(args.out)
        out.with_suffix(".json").write_text(json.dumps(
            {"config": args.config, "teacher_bond": args.teacher_bond, "steps": args.steps,
             "learning_rate": args.learning_rate, "runs": rows}, indent=1))
        plot(rows, out.with_suffix(".png"))


if __name__ == "__main__":
    main()
