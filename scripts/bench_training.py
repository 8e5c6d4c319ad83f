"""Training throughput and checkpoint cost of a config, measured end to end.

    python scripts/bench_training.py [--config configs/quickstart.yaml] [--workdir DIR]

Runs the config in a fresh run folder twice: first to half its steps, then the same command
again, which resumes from the checkpoint and finishes. Prints wall time of each command, the
trainer's own summary (steps/s excluding the first step, first step = compile + one step,
median checkpoint save, restore), and writes them to bench_results/training.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/quickstart.yaml")
    parser.add_argument("--workdir", default="bench_results/training_run")
    args = parser.parse_args(argv)
    from qtnet.config import Config, load

    steps = load(Config, ROOT / args.config).training.steps
    workdir = ROOT / args.workdir
    shutil.rmtree(workdir, ignore_errors=True)
    base = [sys.executable, "-m", "train", "--config", args.config, "--workdir", str(workdir)]
    first = _run([*base, "--set", f"training.steps={steps // 2}"])
    half = json.loads((workdir / "summary.json").read_text())
    second = _run(base)
    resumed = json.loads((workdir / "summary.json").read_text())
    out = {"config": args.config, "steps": steps,
           "wall_first_half_s": first, "wall_resumed_half_s": second,
           "first_step_s": half["first_step_seconds"],
           "steps_per_second": [half["steps_per_second"], resumed["steps_per_second"]],
           "checkpoint_save_s": [half["checkpoint_save_seconds"],
                                 resumed["checkpoint_save_seconds"]],
           "checkpoint_restore_s": resumed["checkpoint_restore_seconds"],
           "final_eval": resumed["final_eval"]}
    print(json.dumps(out, indent=1))
    (ROOT / "bench_results").mkdir(exist_ok=True)
    (ROOT / "bench_results" / "training.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
