"""First-step time of a training config with JAX's persistent compilation cache off, cold
and warm, and of a resume after SIGKILL.

    python scripts/bench_compilation_cache.py [--config configs/quickstart.yaml] [--set K=V]

Every run is a new process (``python -m train``) in a fresh run folder, so only the disk cache
carries over: off (``QTNET_COMPILATION_CACHE=off``), cold (an empty cache folder), warm (the
folder the cold run filled); then a warm run killed with SIGKILL after its first checkpoint
and the same command again, which resumes. Prints a table and writes
bench_results/compilation_cache.json. The runs are shortened with ``--set`` (the same
overrides for all, so the compiled programs are the same).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ["training.steps=60", "training.eval_every=30", "checkpoint.every=10"]


def command(config: str, workdir: Path) -> list[str]:
    sets = [a for o in OVERRIDES for a in ("--set", o)]
    return [sys.executable, "-m", "train", "--config", config, "--workdir", str(workdir), *sets]


def run(config: str, workdir: Path, cache: str) -> dict:
    env = {**os.environ, "QTNET_COMPILATION_CACHE": cache}
    start = time.perf_counter()
    proc = subprocess.run(command(config, workdir), cwd=ROOT, env=env, capture_output=True,
                          text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    summary = json.loads((workdir / "summary.json").read_text())
    return {"first_step_seconds": summary["first_step_seconds"], "wall_seconds": wall}


def killed_after_first_checkpoint(config: str, workdir: Path, cache: str) -> float:
    env = {**os.environ, "QTNET_COMPILATION_CACHE": cache}
    start = time.perf_counter()
    proc = subprocess.Popen(command(config, workdir), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpts = workdir / "checkpoints"
    while proc.poll() is None and not (ckpts.is_dir() and any(
            p.name.isdigit() for p in ckpts.iterdir())):
        time.sleep(0.05)
    if proc.poll() is not None:
        sys.exit("the run finished before its first checkpoint could be interrupted")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/quickstart.yaml")
    parser.add_argument("--out", default="bench_results/compilation_cache")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="a further override for every run")
    args = parser.parse_args(argv)
    OVERRIDES.extend(args.overrides)
    out = ROOT / args.out
    shutil.rmtree(out, ignore_errors=True)
    cache = out / "cache"
    rows = {
        "off": run(args.config, out / "off", "off"),
        "cold": run(args.config, out / "cold", str(cache)),
        "warm": run(args.config, out / "warm", str(cache)),
    }
    killed = killed_after_first_checkpoint(args.config, out / "resume", str(cache))
    rows["resume after SIGKILL (warm)"] = run(args.config, out / "resume", str(cache))
    rows["resume after SIGKILL (warm)"]["killed_after_seconds"] = killed
    files = list(cache.rglob("*-cache"))
    size = sum(f.stat().st_size for f in files)
    print(f"{args.config} ({', '.join(OVERRIDES)}); cache: {len(files)} entries, "
          f"{size / 1e6:.1f} MB")
    print(f"{'run':<30} {'first step (s)':>15} {'process wall (s)':>17}")
    for name, row in rows.items():
        print(f"{name:<30} {row['first_step_seconds']:>15.2f} {row['wall_seconds']:>17.1f}")
    result = {"config": args.config, "overrides": OVERRIDES, "entries": len(files),
              "bytes": size, "runs": rows}
    (ROOT / "bench_results").mkdir(exist_ok=True)
    (out / "result.json").write_text(json.dumps(result, indent=1))
    print(f"written to {out / 'result.json'}")


if __name__ == "__main__":
    main()
