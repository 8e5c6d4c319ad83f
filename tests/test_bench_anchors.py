"""scripts/bench_anchors.py at a tiny size with qtnet alone (CI has no anchor environment)."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

from qtnet.tn.program import brickwork_bond_bound as program_bond_bound

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_anchors", ROOT / "scripts/bench_anchors.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _row(tool, n, step, compile_s=1.0, value=0.5, grad=(0.1, 0.2), depth=2, chi=4):
    return {"tool": tool, "n": n, "depth": depth, "chi": chi, "status": "ok", "step_s": step,
            "compile_s": compile_s, "value": value, "grad": list(grad)}


@pytest.mark.parametrize("n,depth", [(4, 2), (6, 3), (8, 8), (12, 5)])
def test_bond_bound_matches_the_engine(n, depth):
    from qtnet.tn.gates import FIXED_2Q

    pairs = np.broadcast_to(FIXED_2Q["CZ"], (depth, n // 2, 4, 4))
    assert bench.brickwork_bond_bound(n, depth) == int(program_bond_bound(n, pairs).max())


def test_ratios_take_the_best_anchor_and_only_compiling_ones_for_compile():
    rows = [_row("qtnet-mps", 16, 0.1, compile_s=2.0), _row("quimb-mps", 16, 0.4, 40.0),
            _row("tcng-mps", 16, 0.2, 80.0), _row("pennylane-mps", 16, 50.0, 0.5),
            _row("quimb-mps", 32, 0.4)]             # no qtnet row at n=32: no ratio
    (r,) = bench.ratios(rows, "qtnet-mps", {"quimb-mps", "tcng-mps", "pennylane-mps"})
    assert (r["best_step"], r["step_ratio"]) == ("tcng-mps", pytest.approx(0.5))
    assert (r["best_compile"], r["compile_ratio"]) == ("quimb-mps", pytest.approx(0.05))


def test_agreement_flags_a_tool_off_the_reference_and_nan_gradients():
    good = [_row("qtnet-dense", 4, 1), _row("qtnet-mps", 4, 1, value=0.5 + 1e-9)]
    (a,) = bench.agreement(good, 1e-6)
    assert a["exact"] and a["agree"]
    off = good + [_row("quimb-mps", 4, 1, value=0.51)]
    assert not bench.agreement(off, 1e-6)[0]["agree"]
    nan = good + [_row("quimb-mps", 4, 1, grad=(np.nan, 0.2))]
    assert not bench.agreement(nan, 1e-6)[0]["agree"]
    # Truncated cases (bond bound > chi) report a spread, not a verdict.
    (t,) = bench.agreement([_row("qtnet-mps", 16, 1, depth=20, chi=4),
                            _row("tcng-mps", 16, 1, depth=20, chi=4, value=0.4)], 1e-6)
    assert not t["exact"] and "agree" not in t and t["value_spread"] == pytest.approx(0.1)


def test_budget_skips_the_rest_of_a_series_after_a_miss():
    budget = bench.Budget(case_s=10.0, tool_s=15.0)
    budget.record({"tool": "a", "n": 16, "depth": 8, "chi": 32, "status": "over budget",
                   "wall_s": 10.0})
    assert "over budget at n=16" in budget.why_skip("a", 8, 32)
    assert budget.why_skip("a", 8, 64) is None
    assert budget.timeout("a") == 5.0                 # what is left of the tool's budget
    budget.record({"tool": "a", "n": 16, "depth": 8, "chi": 64, "status": "ok",
                   "wall_s": 6.0})
    assert "tool budget" in budget.why_skip("a", 20, 64)


def test_unknown_tool_is_refused():
    with pytest.raises(SystemExit):
        bench.parse_args(["--tools", "qtnet-mps", "cirq"])


def test_qtnet_alone_end_to_end(tmp_path, capsys):
    out = tmp_path / "anchors.json"
    code = bench.main(["--tools", "qtnet-mps", "qtnet-dense", "qtnet-tn", "--n", "4",
                       "--depth", "2", "--chi", "4", "--dense-n", "4", "--dtype", "complex128",
                       "--repeats", "1", "--kernel-chi", "0", "--out", str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    (mps,), (dense, network) = result["mps"], result["dense"]
    assert mps["status"] == dense["status"] == network["status"] == "ok"
    assert mps["value"] == pytest.approx(dense["value"], abs=1e-10)
    assert network["value"] == pytest.approx(dense["value"], abs=1e-10)
    assert network["grad"] == pytest.approx(dense["grad"], abs=1e-10)
    # The MPS case is compared with the dense run at the same n, and they agree.
    (a,) = [a for a in result["agreement"] if a["chi"] == 4]
    assert a["exact"] and a["agree"] and a["tools"] == 2
    assert result["machine"]["versions"]["qtnet-env"]["jax"]
    assert "agree" in capsys.readouterr().out


def test_reuse_merges_earlier_runs_preferring_results(tmp_path):
    def write(name, rows):
        path = tmp_path / name
        path.write_text(json.dumps({"dtype": "complex64", "mps": rows, "dense": []}))
        return str(path)

    first = write("a.json", [dict(_row("quimb-mps", 64, 1), status="over budget"),
                             _row("quimb-mps", 16, 0.1), _row("qtnet-mps", 16, 0.05)])
    second = write("b.json", [_row("quimb-mps", 64, 0.3)])
    measured = {("qtnet-mps", 16, 2, 4)}                           # this run's own case
    rows, sources = bench._reusable_rows([first, second], "complex64", measured)
    got = {(r["tool"], r["n"]): r for r in rows}
    assert set(got) == {("quimb-mps", 64), ("quimb-mps", 16)}      # qtnet's row not reused
    assert got[("quimb-mps", 64)]["status"] == "ok" and got[("quimb-mps", 64)]["reused"] == second
    assert [s["tools"] for s in sources] == [["quimb-mps"], ["quimb-mps"]]
    assert "complex128" in bench._reusable_rows([first], "complex128", set())


def test_markdown_shows_every_cell_with_its_reason():
    rows = [_row("qtnet-mps", 16, 0.05), _row("quimb-mps", 16, 0.1, compile_s=40.0),
            dict(_row("tcng-mps", 16, 1), status="over budget")]
    for r in rows:
        r["peak_mb"] = 700.0
    result = {"mps": rows, "dense": [], "dense_ratios": [],
              "mps_ratios": bench.ratios(rows, "qtnet-mps", {"quimb-mps", "tcng-mps"})}
    table = bench.markdown(result)
    assert "| 16 | 2 | 4 | 1.0 / 0.05 / 700 | 40.0 / 0.1 / 700 | over budget | 0.025 | 0.500 |" \
        in table
