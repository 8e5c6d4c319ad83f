"""The thin entry points: ``python -m train`` and ``python -m qtnet`` from the repo root."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_python_m_train_forwards_to_the_cli():
    proc = subprocess.run([sys.executable, "-m", "train"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0 and "simulate" in proc.stdout
