"""Student bond χ against agreement and logged fidelity for the deep circuit on the 2^32-node
grid: one ordinary training run per χ (``python -m train`` with ``configs/grid_2e32_deep.yaml``,
student Φ and circuit at χ, one teacher at ``--teacher-bond`` for all), each in its own process
with a wall-time budget; writes the table as JSON and the plot as PNG.

    python scripts/deep_chi_sweep.py [--chis 4,8,16,32] [--teacher-bond 32] [--steps 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def final(metrics: Path, split: str) -> dict:
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("split") == split][-1]


def run_one(chi: int, args, workdir: Path) -> dict:
    cmd = [sys.executable, "-m", "train", "--config", str(ROOT / args.config),
           "--workdir", str(workdir), "--set", f"data.max_bond={chi}",
           "--set", f"backend.max_bond={chi}", "--set", f"data.teacher_bond={args.teacher_bond}",
           "--set", f"training.steps={args.steps}", "--set", f"training.eval_every={args.steps}",
           "--set", f"checkpoint.every={args.steps}",
           "--set", f"optimizer.learning_rate={args.learning_rate}",
           "--set", "decision.evaluate=false"]
    workdir.parent.mkdir(parents=True, exist_ok=True)
    log = workdir.parent / f"{workdir.name}.log"
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        timer = threading.Timer(args.budget, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)       # this child's own peak memory
        timer.cancel()
    wall = time.perf_counter() - start
    if wall >= args.budget:
        return {"chi": chi, "status": f"over the {args.budget:.0f} s budget"}
    if status:
        return {"chi": chi, "status": f"failed ({status}): see {log}"}
    rss = usage.ru_maxrss / 2**20
    train, ev, test = (final(workdir / "metrics.jsonl", s) for s in ("train", "eval", "test"))
    return {"chi": chi, "status": "ok", "wall_seconds": wall, "peak_rss_gb": rss,
            "eval_agreement": ev["accuracy"], "test_agreement": test["accuracy"],
            "fidelity": train["fidelity"], "eval_fidelity": ev.get("fidelity"),
            "final_loss": train["loss"]}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["status"] == "ok"]
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
    parser.add_argument("--chis", default="4,8,16,32")
    parser.add_argument("--teacher-bond", type=int, default=32)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--learning-rate", type=float, default=0.02)
    parser.add_argument("--budget", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--workdir", default="bench_results/deep_chi_sweep")
    parser.add_argument("--out", default="docs/deep_chi_sweep")
    args = parser.parse_args(argv)

    rows = []
    for chi in (int(c) for c in args.chis.split(",")):
        row = run_one(chi, args, Path(args.workdir) / f"chi{chi}")
        print(json.dumps(row), flush=True)
        rows.append(row)
        out = Path(args.out)
        out.with_suffix(".json").write_text(json.dumps(
            {"config": args.config, "teacher_bond": args.teacher_bond, "steps": args.steps,
             "learning_rate": args.learning_rate, "runs": rows}, indent=1))
        plot(rows, out.with_suffix(".png"))


if __name__ == "__main__":
    main()
