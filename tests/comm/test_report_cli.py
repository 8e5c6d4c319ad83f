"""``qtnet comm-report``: configs in, ledger out (text, JSON, CSV, PNG); bad configs exit 2."""

import json
from pathlib import Path

import pytest

from qtnet.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_figure2_config_report(tmp_path, capsys):
    cfg = str(ROOT / "configs" / "comm" / "figure2.yaml")
    assert main(["comm-report", "--config", cfg, "--json", "--out", str(tmp_path),
                 "--set", "layers=3", "--set", "qubits=12"]) == 0
    data = json.loads(capsys.readouterr().out)
    loss = [h for h in data["handoffs"] if h["purpose"] == "loss"]
    assert len(loss) == 6 and all(h["qubits_per_copy"] == 12 for h in loss)
    assert data["totals"]["classical_bits"] == 12 * 2**12 * 32      # 6 loss + 6 gradient rows
    for ext in ("json", "csv", "png"):
        assert (tmp_path / f"comm_report.{ext}").stat().st_size > 0
    assert main(["comm-report", "--config", str(ROOT / "configs" / "comm" / "chain.yaml")]) == 0
    assert "total: " in capsys.readouterr().out


@pytest.mark.parametrize("setting, message", [
    ("epsilon=0", "epsilon: expected a value > 0, got 0"),
    ("delta=1.5", r"delta: expected a value in (0, 1), got 1.5"),
    ("gradient=adjoint", "gradient: expected one of none, parameter_shift, shadow"),
    ("protocol=ring", "protocol: expected one of figure2, chain"),
    ("layerz=2", "unknown key layerz"),
])
def test_bad_comm_configs_exit_2(capsys, setting, message):
    cfg = str(ROOT / "configs" / "comm" / "figure2.yaml")
    assert main(["comm-report", "--config", cfg, "--set", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
