"""The thin entry points: ``python -m train`` from the repo root and the console scripts."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_python_m_train_reports_a_missing_config_in_one_line():
    proc = subprocess.run([sys.executable, "-m", "train", "--config", "configs/nope.yaml"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "python -m train: error: config file not found: configs/nope.yaml"]


def test_console_scripts_point_into_the_package():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["qtnet-train"] == "qtnet.training.cli:train_main"
    assert scripts["qtnet-eval"] == "qtnet.training.cli:eval_main"


def test_every_config_file_starts_with_the_command_that_runs_it():
    commands = ("# python -m train --config ", "# qtnet comm-report --config ",
                "# python scripts/reproduce_table2.py --config ",
                "# qtnet federated --config ", "# qtnet diagnose gradients --config ")
    for path in sorted((ROOT / "configs").glob("**/*.yaml")):
        first = path.read_text().splitlines()[0]
        rel = path.relative_to(ROOT).as_posix()
        assert any(first == f"{cmd}{rel}" for cmd in commands), path


def test_every_training_config_loads():
    """Each `python -m train` config parses and validates against the schema (no data read)."""
    from qtnet.config import Config
    from qtnet.config.load import load

    for path in sorted((ROOT / "configs").glob("**/*.yaml")):
        if path.read_text().startswith("# python -m train --config "):
            load(Config, path)
