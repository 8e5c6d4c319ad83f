"""The bad-input corpus: configs, ``--set`` overrides, QASM programs and data files a user may
hand qtnet by mistake. Every case must end in one clear line naming the problem (a
``ConfigError`` / ``QasmError`` / ``DataError``, exit status 2 on the command line) and, for a
training run, leave nothing in the run folder. All cases are cheap: each fails before
anything is compiled.
"""

import gzip
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from qtnet.circuits import from_qasm
from qtnet.circuits.qasm import QasmError
from qtnet.cli import main as qtnet_main
from qtnet.config import CommReportConfig, Config, load
from qtnet.data.planetoid import load_planetoid
from qtnet.data.tu import load_gin_text, load_tu
from qtnet.data.ogb import load_ogb_nodeprop, load_reddit
from qtnet.data.types import DataError
from qtnet.training.cli import eval_main, train_main

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs" / "tiny.yaml")
CORA = ROOT / "qtnet" / "data" / "bundled" / "cora"
MUTAG = ROOT / "qtnet" / "data" / "bundled" / "MUTAG"


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


def _nothing_written(workdir: Path) -> None:
    assert not workdir.exists() or not any(workdir.iterdir()), sorted(workdir.iterdir())


# -- configs: --set overrides on configs/tiny.yaml -----------------------------------------

SET_CASES = [
    # unknown keys and sections
    ("training.stepz=3", "unknown key training.stepz"),
    ("trainng.steps=3", "unknown key trainng"),
    ("model.qubits=3", "unknown key model.qubits"),
    ("data.hops=3", "unknown key data.hops"),
    ("backend.bond=3", "unknown key backend.bond"),
    ("optimizer.lr=0.1", "unknown key optimizer.lr"),
    ("schedule.warmup=3", "unknown key schedule.warmup"),
    ("checkpoint.period=3", "unknown key checkpoint.period"),
    ("metering.eps=0.1", "unknown key metering.eps"),
    ("circuit.run=true", "unknown key circuit.run"),
    # unknown names in registries
    ("model.type=transformer", "model.type"),
    ("data.type=imagenet", "data.type"),
    ("data.name=imagenet", "data.type"),
    ("backend.type=peps", "backend.type"),
    ("backend.type=tn", "model.type figure2 runs on mps or dense, not 'tn'"),
    ("backend.type=tree", "model.type figure2 runs on mps or dense, not 'tree'"),
    ("optimizer.name=adagrad", "optimizer.name"),
    ("schedule.type=step", "schedule.type"),
    ("backend.dtype=float16", "backend.dtype"),
    ("checkpoint.best_mode=largest", "checkpoint.best_mode"),
    ("checkpoint.best_metric=eval/acc", "checkpoint.best_metric"),
    ("checkpoint.best_metric=accuracy", "checkpoint.best_metric"),
    ("metering.gradient=adjoint", "metering.gradient"),
    ("model.ansatz=hea", "model.ansatz"),
    # wrong types
    ("training.steps=ten", "training.steps: expected int"),
    ("training.steps=2.5", "training.steps: expected int"),
    ("training.steps=true", "training.steps: expected int"),
    ("training.steps=[1, 2]", "training.steps: expected int"),
    ("training.steps={a: 1}", "training.steps: expected int"),
    ("training.steps=null", "training.steps: expected int"),
    ("training.batch_size=1e3", "training.batch_size: expected int"),
    ("training.seed=-1", "training.seed: expected a value >= 0"),
    ("optimizer.learning_rate=fast", "optimizer.learning_rate: expected float"),
    ("optimizer.learning_rate=[0.1]", "optimizer.learning_rate: expected float"),
    ("backend.max_bond=big", "backend.max_bond: expected int or null"),
    ("backend.cutoff=none", "backend.cutoff: expected float"),
    ("metering.enabled=maybe", "metering.enabled: expected bool"),
    ("metering.enabled=1", "metering.enabled: expected bool"),
    ("circuit.evaluate=yes please", "circuit.evaluate: expected bool"),
    ("model=figure2", "model: expected a mapping"),
    ("training=5", "training: expected a mapping"),
    ("data.standardize=0", "data.standardize: expected bool"),
    ("model.layers=two", "model.layers: expected int"),
    # out of range
    ("training.steps=0", "training.steps: expected a value >= 1"),
    ("training.steps=-5", "training.steps: expected a value >= 1"),
    ("training.batch_size=0", "training.batch_size: expected a value >= 1"),
    ("training.eval_every=0", "training.eval_every: expected a value >= 1"),
    ("training.log_every=0", "training.log_every: expected a value >= 1"),
    ("checkpoint.every=0", "checkpoint.every: expected a value >= 1"),
    ("checkpoint.keep=0", "checkpoint.keep: expected a value >= 1"),
    ("optimizer.learning_rate=-0.1", "optimizer.learning_rate: expected a value >= 0"),
    ("optimizer.weight_decay=-1", "optimizer.weight_decay: expected a value >= 0"),
    ("optimizer.momentum=1.5", "optimizer.momentum: expected a value <= 1"),
    ("optimizer.grad_clip=-1", "optimizer.grad_clip: expected a value >= 0"),
    ("backend.max_bond=0", "backend.max_bond: expected a value >= 1"),
    ("backend.cutoff=-0.1", "backend.cutoff: expected a value >= 0"),
    ("backend.cutoff=2", "backend.cutoff: expected a value <= 1"),
    ("schedule.warmup_steps=-1", "schedule.warmup_steps: expected a value >= 0"),
    ("schedule.warmup_steps=4", "schedule.warmup_steps: expected fewer than training.steps"),
    ("schedule.end_factor=1.5", "schedule.end_factor: expected a value <= 1"),
    ("metering.epsilon=0", "metering.epsilon: expected a value > 0"),
    ("metering.delta=1", "metering.delta: expected a value in (0, 1)"),
    ("metering.delta=0", "metering.delta: expected a value in (0, 1)"),
    ("metering.bits=0", "metering.bits: expected a value >= 1"),
    ("circuit.epsilon=-1", "circuit: expected epsilon > 0"),
    ("circuit.delta=2", "circuit: expected epsilon > 0 and delta in (0, 1)"),
    ("model.layers=0", "model.layers: expected a value >= 1"),
    ("model.layers=1000", "model.layers: expected a value <= 64"),
    ("model.depth=0", "model.depth: expected a value >= 1"),
    ("model.init_scale=-1", "model.init_scale: expected a value >= 0"),
    ("data.test_fraction=0", "data.test_fraction: expected a value >= 0.05"),
    ("data.test_fraction=1", "data.test_fraction: expected a value <= 0.95"),
    ("data.split_seed=-3", "data.split_seed: expected a value >= 0"),
    # NaN / inf pass no range check
    ("optimizer.learning_rate=.nan", "optimizer.learning_rate: expected a finite number"),
    ("optimizer.learning_rate=.inf", "optimizer.learning_rate: expected a finite number"),
    ("optimizer.learning_rate=nan", "optimizer.learning_rate: expected a finite number"),
    ("optimizer.learning_rate=inf", "optimizer.learning_rate: expected a finite number"),
    ("backend.cutoff=.nan", "backend.cutoff: expected a finite number"),
    ("data.test_fraction=.nan", "data.test_fraction: expected a finite number"),
    ("optimizer.grad_clip=.inf", "optimizer.grad_clip: expected a finite number"),
    ("metering.epsilon=.nan", "metering.epsilon: expected a finite number"),
    ("metering.delta=.nan", "metering.delta: expected a finite number"),
    ("circuit.epsilon=.inf", "circuit.epsilon: expected a finite number"),
    ("schedule.end_factor=-.inf", "schedule.end_factor: expected a finite number"),
    ("model.init_scale=.inf", "model.init_scale: expected a finite number"),
    ("optimizer.weight_decay=.nan", "optimizer.weight_decay: expected a finite number"),
    # integers too large for any real run
    ("training.steps=10**12", "training.steps: expected int"),
    ("training.steps=1000000000000", "training.steps: expected a value <="),
    ("training.batch_size=1000000000", "training.batch_size: expected a value <="),
    ("training.eval_every=99999999999999999999", "training.eval_every: expected a value <="),
    ("training.seed=99999999999999999999999", "training.seed: expected a value <="),
    ("checkpoint.keep=100000000000", "checkpoint.keep: expected a value <="),
    ("backend.max_bond=100000000000", "backend.max_bond: expected a value <="),
    ("metering.bits=100000000000000", "metering.bits: expected a value <="),
    ("data.split_seed=184467440737095516160", "data.split_seed: expected a value <="),
    # malformed --set items
    ("training.steps", "expected key=value"),
    ("=3", "expected key=value"),
    # tagged sections that disagree
    ("data.name=cora", "disagree"),
]


@pytest.mark.parametrize("item, message", SET_CASES, ids=[c[0][:40] for c in SET_CASES])
def test_bad_override_exits_2_naming_the_key(item, message, tmp_path, capsys):
    workdir = tmp_path / "run"
    sets = ["--set", item] + (["--set", "data.type=digits"] if item == "data.name=cora" else [])
    assert train_main(["--config", TINY, "--workdir", str(workdir), *sets]) == 2
    err = _one_line(capsys)
    assert err.startswith("qtnet-train: error: ") and message in err, err
    _nothing_written(workdir)


# -- configs: whole files --------------------------------------------------------------------

YAML_CASES = [
    ("model: [1, 2", "malformed YAML"),
    ("model:\n  layers: 1\n   depth: 2\n", "malformed YAML"),
    ("- a\n- b\n", "expected a mapping of sections at the top level, got list"),
    ("just a string\n", "expected a mapping of sections at the top level, got str"),
    ("42\n", "expected a mapping of sections at the top level, got int"),
    ("training:\n  steps: 3\ntraining:\n  steps: 5\n", "duplicate key 'training'"),
    ("training:\n  steps: 3\n  steps: 5\n", "duplicate key 'steps'"),
    ("model:\n  type: mlp\n  hidden: 8\n  hidden: 9\n", "duplicate key 'hidden'"),
    ("training: {steps: 3, steps: 4}\n", "duplicate key 'steps'"),
    ("model: !!python/object:os.system {}\n", "malformed YAML"),
    ("training:\n  seed: !!binary aGVsbG8=\n", "training.seed: expected int"),
    ("training:\n  seed: 2023-01-01\n", "training.seed: expected int"),
    ("optimizer:\n  learning_rate: .NaN\n", "expected a finite number"),
    ("optimizer:\n  learning_rate: 1e400\n", "expected a finite number"),
    ("model:\n  type: sign\n", "model.type: sign needs node samples"),
    ("model:\n  type: figure2\n  hidden: 3\n", "unknown key model.hidden"),
    ("data:\n  type: cora\n  test_fraction: 0.2\n", "unknown key data.test_fraction"),
    ("data:\n  type: cora\n  hops: 100\n", "data.hops: expected a value <= 64"),
    ("data:\n  type: citeseer\n", "data.root: citeseer does not ship with qtnet"),
    ("data:\n  type: grid\n  graph_qubits: 5\n", "graph_qubits"),
    ("data:\n  type: grid\n  hops: 2\n", "hops"),
    ("data:\n  type: grid_deep\n  teacher_bond: 4\n  max_bond: 8\n", "teacher_bond"),
    ("backend:\n  type: dense\n  max_bond: 4\n  dtype: float16\n", "backend.dtype"),
    ("training:\n  batch_size: 5000\n", "training.batch_size: 5000 is larger than the "
                                        "training split"),
]


@pytest.mark.parametrize("text, message", YAML_CASES, ids=[str(i) for i in range(len(YAML_CASES))])
def test_bad_config_file_exits_2_naming_the_problem(text, message, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    workdir = tmp_path / "run"
    assert train_main(["--config", str(path), "--workdir", str(workdir),
                       "--set", "training.steps=4"]) == 2
    err = _one_line(capsys)
    assert message in err, err
    _nothing_written(workdir)


def test_config_files_that_are_not_text_or_not_files(tmp_path, capsys):
    cases = []
    binary = tmp_path / "latin1.yaml"
    binary.write_bytes("training:\n  steps: 3 # caf\xe9\n".encode("latin-1"))
    cases.append((binary, "not UTF-8 text"))
    noise = tmp_path / "noise.yaml"
    noise.write_bytes(bytes(range(256)) * 4)
    cases.append((noise, "not UTF-8 text"))
    cases.append((tmp_path, "is a folder, not a config file"))
    cases.append((tmp_path / "missing.yaml", "config file not found"))
    for path, message in cases:
        workdir = tmp_path / "run"
        assert train_main(["--config", str(path), "--workdir", str(workdir)]) == 2
        err = _one_line(capsys)
        assert message in err and str(path) in err, err
        _nothing_written(workdir)


COMM_CASES = [
    ("qubits=0", "qubits: expected a value >= 1"),
    ("qubits=100000", "qubits: expected a value <= 4096"),
    ("epsilon=0", "epsilon: expected a value > 0"),
    ("epsilon=.nan", "epsilon: expected a finite number"),
    ("delta=1.5", "delta: expected a value in (0, 1)"),
    ("protocol=star", "protocol: expected one of"),
    ("parties=1", "parties: expected a value >= 2"),
    ("gradient=magic", "gradient: expected one of"),
    ("shadow_constant=-1", "shadow_constant: expected a value > 0"),
    ("observable=Q3", "Q3"),
    ("observable=Z20", "Z20"),
    ("observable=", "observable"),
]


@pytest.mark.parametrize("item, message", COMM_CASES, ids=[c[0] for c in COMM_CASES])
def test_bad_comm_report_config_exits_2(item, message, capsys):
    config = str(ROOT / "configs" / "comm" / "figure2.yaml")
    assert qtnet_main(["comm-report", "--config", config, "--set", item]) == 2
    err = _one_line(capsys)
    assert err.startswith("qtnet comm-report: error: ") and message in err, err


LINEAR_CASES = [                    # configs/comm/linear.yaml: protocol linear
    ("classes=0", "classes: expected a value >= 1"),
    ("classes=-3", "classes: expected a value >= 1"),
    ("classes=ten", "classes: expected int"),
    ("classes=1e40", "classes: expected int"),
    ("epsilon=1e-300", "epsilon: expected a value >= 1e-12"),
    ("epsilon=0", "epsilon: expected a value > 0"),
    ("epsilon=.inf", "epsilon: expected a finite number"),
    ("delta=0", "delta: expected a value in (0, 1)"),
    ("bits=0", "bits: expected a value >= 1"),
    ("qubits=5000", "qubits: expected a value <= 4096"),
    ("protocol=linearr", "protocol: expected one of"),
    ("clases=3", "unknown key clases"),
]


@pytest.mark.parametrize("item, message", LINEAR_CASES, ids=[c[0] for c in LINEAR_CASES])
def test_bad_linear_comm_report_exits_2(item, message, capsys):
    config = str(ROOT / "configs" / "comm" / "linear.yaml")
    assert qtnet_main(["comm-report", "--config", config, "--set", item]) == 2
    err = _one_line(capsys)
    assert err.startswith("qtnet comm-report: error: ") and message in err, err


DIAGNOSE_CASES = [                  # qtnet diagnose gradients, configs/diagnose/gradients.yaml
    (["qubits=8..4"], "qubits: empty sweep range '8..4'"),
    (["qubits="], "qubits: empty sweep range"),
    (["depths=4..2"], "depths: empty sweep range"),
    (["depths=0"], "depths: empty sweep range"),
    (["qubits=-4"], "qubits: empty sweep range"),
    (["qubits=1"], "qubits: expected every count >= 2"),
    (["qubits=1..64"], "qubits: expected every count >= 2"),
    (["qubits=0..8"], "qubits: expected positive integers"),
    (["qubits=a..b"], "qubits: expected positive integers"),
    (["qubits=8,x"], "qubits: expected positive integers"),
    (["qubits=2.5"], "qubits: expected str or int"),
    (["qubits=[4, 8]"], "qubits: expected str or int"),
    (["qubits=null"], "qubits: expected str or int"),
    (["qubits=99999999999999999999999"], "qubits: expected a value <= 2147483647"),
    (["samples=1"], "samples: expected a value >= 2"),
    (["samples=1000000000000"], "samples: expected a value <= 2147483647"),
    (["seed=-1"], "seed: expected a value >= 0"),
    (["backend=peps"], "backend: expected one of mps, dense"),
    (["max_bond=0"], "max_bond: expected a value >= 1"),
    (["qubitz=4"], "unknown key qubitz"),
    # sweeps no machine here holds: refused before the first point compiles
    (["qubits=40", "backend=dense"], "the dense backend holds at most 26 sites"),
    (["qubits=100000000"], "needs ~1.91e+04 GiB of states"),
    (["depths=100000000"], "bond 4294967296"),
    (["qubits=1024", "depths=64", "samples=1000"], "more than 8 GiB"),
]


@pytest.mark.parametrize("items, message", DIAGNOSE_CASES,
                         ids=[" ".join(c[0]) for c in DIAGNOSE_CASES])
def test_bad_gradient_diagnostic_exits_2(items, message, capsys):
    config = str(ROOT / "configs" / "diagnose" / "gradients.yaml")
    argv = ["diagnose", "gradients", "--config", config]
    for item in items:
        argv += ["--set", item]
    assert qtnet_main(argv) == 2
    err = _one_line(capsys)
    assert err.startswith("qtnet diagnose: error: ") and message in err, err


def test_eval_of_a_folder_without_a_run_exits_2(tmp_path, capsys):
    for workdir, step in ((tmp_path, None), (tmp_path / "nothing", None), (tmp_path, 5)):
        argv = ["--workdir", str(workdir)] + (["--step", str(step)] if step else [])
        assert eval_main(argv) == 2
        assert "no run in" in _one_line(capsys)


# -- QASM 2 programs -------------------------------------------------------------------------

HEAD = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\n'

QASM_CASES = [
    # syntax
    ("", "must start with 'OPENQASM 2.0;'"),
    ("qreg q[2];\nh q[0];\n", "must start with 'OPENQASM 2.0;'"),
    ("OPENQASM 4.0;\nqreg q[1];\n", "must start with 'OPENQASM 2.0;'"),
    ("OPENQASM 2.0;\n", "declares no qreg"),
    (HEAD + "h q[0]\n", "line 4: statement 'h q[0]' has no terminating ';'"),
    (HEAD + "h q[0];\ncx q[0] q[1];\n", "line 5"),
    (HEAD + "qreg r[;\n", "line 4: malformed register declaration"),
    (HEAD + "qreg q[2];\n", "line 4: register 'q' declared twice"),
    (HEAD + "qreg r[0];\n", "line 4: qreg r must have at least one qubit"),
    (HEAD + 'include "other.inc";\n', "line 4: only 'include \"qelib1.inc\";'"),
    (HEAD + "gate g a { h a;\n", "line 4: block has no closing '}'"),
    (HEAD + "gate g { h a; }\n", "line 4"),
    (HEAD + "gate { h a; }\n", "line 4: malformed gate definition"),
    (HEAD + "measure q[0];\n", "line 4: malformed measure"),
    (HEAD + "rx(0.1 q[0];\n", "line 4"),
    (HEAD + "h q[0]; 3 q[1];\n", "line 4: cannot parse statement"),
    (HEAD + "@ q[0];\n", "line 4: cannot parse statement"),
    # unsupported or unknown gates and statements
    (HEAD + "foo q[0];\n", "line 4: unsupported or undefined gate 'foo'"),
    (HEAD + "H q[0];\n", "line 4: unsupported or undefined gate 'H'"),
    (HEAD + "c3x q[0],q[1],q[2],q[0];\n", "line 4"),
    (HEAD + "opaque magic a;\n", "line 4: 'opaque' is not supported"),
    (HEAD + "reset q[0];\n", "line 4: 'reset' is not supported"),
    (HEAD + "creg c[1];\nif(c==1) x q[0];\n", "line 5: 'if' is not supported"),
    (HEAD + "creg c[3];\nmeasure q -> c;\nh q[0];\n", "line 6: gate h acts on a measured qubit"),
    # wrong arity: parameters and qubits
    (HEAD + "h q[0], q[1];\n", "line 4: gate h acts on 1 qubit(s), got 2"),
    (HEAD + "cx q[0];\n", "line 4: gate cx acts on 2 qubit(s), got 1"),
    (HEAD + "ccx q[0], q[1];\n", "line 4: gate ccx acts on 3 qubit(s), got 2"),
    (HEAD + "rx q[0];\n", "line 4: gate rx takes 1 parameter(s), got 0"),
    (HEAD + "rx(0.1, 0.2) q[0];\n", "line 4: gate rx takes 1 parameter(s), got 2"),
    (HEAD + "h(0.3) q[0];\n", "line 4: gate h takes 0 parameter(s), got 1"),
    (HEAD + "u3(1, 2) q[0];\n", "line 4: gate u3 takes 3 parameter(s), got 2"),
    (HEAD + "u2(1) q[0];\n", "line 4: gate u2 takes 2 parameter(s), got 1"),
    (HEAD + "cx q[0], q[0];\n", "line 4: gate cx repeats a qubit"),
    (HEAD + "h;\n", "line 4: gate 'h' is given no qubits"),
    (HEAD + "gate g(t) a { rx(t) a; }\ng q[0];\n", "line 5: gate g takes 1 parameter(s), got 0"),
    (HEAD + "gate g a, b { cx a, b; }\ng q[0];\n", "line 5: gate g acts on 2 qubit(s), got 1"),
    (HEAD + "gate g a { h b; }\ng q[0];\n", "line 5: unknown qubit 'b' in gate body"),
    (HEAD + "gate g a, b { cx a, c; }\ng q[0], q[1];\n", "line 5: unknown qubit 'c'"),
    (HEAD + "qreg r[2];\ncx q, r;\n", "line 5: registers of different sizes"),
    # out-of-range and unknown qubits
    (HEAD + "h q[3];\n", "line 4: q[3] is out of range (register q has 3 qubits)"),
    (HEAD + "h q[99999999999999999999];\n", "line 4: q[99999999999999999999] is out of range"),
    (HEAD + "h r[0];\n", "line 4: unknown qubit operand 'r[0]'"),
    (HEAD + "h q[-1];\n", "line 4: unknown qubit operand 'q[-1]'"),
    (HEAD + "h q[x];\n", "line 4: unknown qubit operand 'q[x]'"),
    (HEAD + "measure q[5] -> c[0];\n", "line 4: q[5] is out of range"),
    # parameter expressions: every error names its line
    (HEAD + "rx(1/0) q[0];\n", "line 4: division by zero in expression '1/0'"),
    (HEAD + "rx(pi/(1-1)) q[0];\n", "line 4: division by zero"),
    (HEAD + "rx(10^10^10) q[0];\n", "line 4"),
    (HEAD + "rx(2.0^5000) q[0];\n", "line 4"),
    (HEAD + "rx(1e309) q[0];\n", "line 4: parameter '1e309' is not a finite number"),
    (HEAD + "rx(-1e309) q[0];\n", "line 4: parameter '-1e309' is not a finite number"),
    (HEAD + "rx(exp(1000)) q[0];\n", "line 4"),
    (HEAD + "rx(ln(0)) q[0];\n", "line 4"),
    (HEAD + "rx(sqrt(-1)) q[0];\n", "line 4"),
    (HEAD + "rx(asin(2)) q[0];\n", "line 4"),
    (HEAD + "rx(theta) q[0];\n", "line 4: unknown name 'theta'"),
    (HEAD + "rx(foo(1)) q[0];\n", "line 4: unsupported construct"),
    (HEAD + "rx(sin(1, 2)) q[0];\n", "line 4: unsupported construct"),
    (HEAD + "rx('a') q[0];\n", "line 4: unsupported construct"),
    (HEAD + "rx(1 if 1 else 2) q[0];\n", "line 4: unsupported construct"),
    (HEAD + "rx(1 +) q[0];\n", "line 4: cannot parse parameter expression"),
    (HEAD + "rx(" + "9" * 5000 + ") q[0];\n", "line 4"),
    (HEAD + "rx(1j) q[0];\n", "line 4: unsupported construct"),
    (HEAD + "gate g(t) a { rx(t/0) a; }\ng(1) q[0];\n", "line 5: division by zero"),
    # recursion and size blow-ups
    (HEAD + "gate g a { g a; }\ng q[0];\n", "line 4: gate 'g' uses 'g' before it is defined"),
    (HEAD + "gate f a { g a; }\ngate g a { f a; }\nf q[0];\n",
     "line 4: gate 'f' uses 'g' before it is defined"),
    (HEAD + "".join(f"gate g{i} a {{ g{i - 1} a; g{i - 1} a; g{i - 1} a; g{i - 1} a; }}\n"
                    for i in range(1, 25)).replace("g0 a", "h a")
     + "g24 q[0];\n", "gates; the limit is"),
    ("OPENQASM 2.0;\nqreg q[100000000];\n", "line 2: qreg q has 100000000 qubits; the limit is"),
]


@pytest.mark.parametrize("text, message", QASM_CASES, ids=[str(i) for i in range(len(QASM_CASES))])
def test_bad_qasm_is_refused_naming_the_line(text, message):
    with pytest.raises(QasmError) as info:
        from_qasm(text)
    assert message in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_qasm_cli_exits_2_with_one_line(tmp_path, capsys):
    cases = [(QASM_CASES[46][0], "division by zero"), (QASM_CASES[50][0], "not a finite"),
             (HEAD + "h q[0];\n", "observable"), (tmp_path / "nothing.qasm", "not found")]
    for i, (text, message) in enumerate(cases):
        if isinstance(text, Path):
            path = text
        else:
            path = tmp_path / f"case{i}.qasm"
            path.write_text(text)
        observable = "" if message == "observable" else "Z0"
        assert qtnet_main(["simulate", str(path), "--observable", observable]) == 2
        err = _one_line(capsys)
        assert err.startswith("qtnet simulate: error: ") and message in err, err
    binary = tmp_path / "binary.qasm"
    binary.write_bytes(b"\xff\xfe\x00OPENQASM")
    assert qtnet_main(["simulate", str(binary), "--observable", "Z0"]) == 2
    assert "not UTF-8 text" in _one_line(capsys)
    assert qtnet_main(["simulate", str(tmp_path), "--observable", "Z0"]) == 2
    assert "not found" in _one_line(capsys) or "folder" in capsys.readouterr().err


@pytest.mark.parametrize("width", [40, 100_000])
def test_dense_register_above_the_limit_is_refused_before_planning(width, tmp_path, capsys,
                                                                   monkeypatch):
    """Refused from the register's size alone: planning 10^5 qubits' program took ~7 s."""
    from qtnet.circuits import Circuit

    def planned(*_args, **_kw):
        raise AssertionError("the gate program was planned before the size was checked")

    monkeypatch.setattr(Circuit, "program", planned)
    path = tmp_path / "wide.qasm"
    path.write_text(f"OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[{width}];\nh q[0];\n")
    assert qtnet_main(["simulate", str(path), "--observable", "Z0", "--backend", "dense"]) == 2
    assert "the dense backend holds at most 26 sites" in _one_line(capsys)


# -- data files: Planetoid (data.root), GIN text, TU, OGB, Reddit ------------------------

def _copy_cora(tmp_path) -> Path:
    folder = tmp_path / "data" / "cora"
    shutil.copytree(CORA, folder)
    return folder


def _dump(path: Path, obj) -> None:
    path.write_bytes(pickle.dumps(obj, protocol=4))


def _read(path: Path):
    with path.open("rb") as f:
        return pickle.load(f, encoding="latin1")


def _graph_with(folder, update):
    graph = dict(_read(folder / "ind.cora.graph"))
    graph.update(update)
    _dump(folder / "ind.cora.graph", graph)


def _features_with_nan(folder, name):
    x = _read(folder / f"ind.cora.{name}").tocsr().astype(np.float64)
    x.data[0] = np.nan
    _dump(folder / f"ind.cora.{name}", x)


def _truncate(path: Path, keep: float = 0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def _flip(path: Path, at: int = 40):
    data = bytearray(path.read_bytes())
    for k in range(at, min(at + 64, len(data))):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))


PLANETOID_CASES = [
    (lambda f: (f / "ind.cora.x").unlink(), "missing Planetoid file"),
    (lambda f: (f / "ind.cora.test.index").unlink(), "missing Planetoid file"),
    (lambda f: _truncate(f / "ind.cora.allx"), "ind.cora.allx: not a readable Planetoid pickle"),
    (lambda f: _truncate(f / "ind.cora.graph"), "ind.cora.graph: not a readable"),
    (lambda f: _truncate(f / "ind.cora.y", 0.1), "ind.cora.y: not a readable"),
    (lambda f: _flip(f / "ind.cora.tx"), "ind.cora.tx"),
    (lambda f: _flip(f / "ind.cora.graph", 200), "ind.cora.graph"),
    (lambda f: (f / "ind.cora.x").write_bytes(b""), "ind.cora.x: not a readable"),
    (lambda f: (f / "ind.cora.x").write_text("hello"), "ind.cora.x: not a readable"),
    (lambda f: _dump(f / "ind.cora.x", [1, 2, 3]), "ind.cora.x: expected a feature matrix"),
    (lambda f: _dump(f / "ind.cora.y", np.zeros(5)), "ind.cora.y: expected one-hot labels"),
    (lambda f: _dump(f / "ind.cora.graph", [[1], [0]]), "expected a dict of adjacency lists"),
    (lambda f: _dump(f / "ind.cora.graph", {0: [10**12]}), "names a node outside"),
    (lambda f: _graph_with(f, {10**12: [0]}), "names a node outside"),
    (lambda f: _graph_with(f, {-3: [0]}), "names a node outside"),
    (lambda f: _graph_with(f, {0: [-1]}), "names a node outside"),
    (lambda f: _graph_with(f, {"a": [0]}), "node ids must be integers"),
    (lambda f: _graph_with(f, {0: [1.5]}), "node ids must be integers"),
    (lambda f: _graph_with(f, {0: 7}), "expected a list of neighbours"),
    (lambda f: (f / "ind.cora.test.index").write_text("1708\nabc\n"), "one integer node id"),
    (lambda f: (f / "ind.cora.test.index").write_text("1708\n"), "1 test ids but tx has"),
    (lambda f: (f / "ind.cora.test.index").write_text(
        "\n".join(["1708"] * 1000)), "duplicate test ids"),
    (lambda f: (f / "ind.cora.test.index").write_text(
        "\n".join(str(i) for i in range(1000))), "test ids overlap the training"),
    (lambda f: (f / "ind.cora.test.index").write_text(
        "\n".join(str(i) for i in range(1708, 2707)) + "\n-5\n"), "test id -5"),
    (lambda f: (f / "ind.cora.test.index").write_text(
        "\n".join(str(i) for i in range(1708, 2707)) + "\n" + str(10**12)), "test id 1000000"),
    (lambda f: _features_with_nan(f, "allx"), "NaN/inf"),
    (lambda f: _features_with_nan(f, "tx"), "NaN/inf"),
    (lambda f: _dump(f / "ind.cora.ty", np.zeros((1000, 3))), "disagree on the number"),
    (lambda f: _dump(f / "ind.cora.ally", np.zeros((10, 7))), "allx/ally have"),
    (lambda f: _dump(f / "ind.cora.x", sp.csr_matrix(np.zeros((140, 5)))), "feature counts"),
    (lambda f: _dump(f / "ind.cora.allx", sp.csr_matrix(np.zeros((400, 1433)))), "allx/ally"),
    (lambda f: (f / "ind.cora.graph").write_bytes(
        b"cos\nsystem\n(S'echo hacked'\ntR."), "refusing to load os.system"),
]


@pytest.mark.parametrize("damage, message", PLANETOID_CASES,
                         ids=[str(i) for i in range(len(PLANETOID_CASES))])
def test_damaged_planetoid_file_is_named(damage, message, tmp_path):
    folder = _copy_cora(tmp_path)
    damage(folder)
    with pytest.raises(DataError) as info:
        load_planetoid(folder, "cora")
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)


@pytest.mark.parametrize("case", [0, 2, 12, 21, 25])
def test_damaged_data_root_exits_2_and_writes_nothing(case, tmp_path, capsys):
    damage, message = PLANETOID_CASES[case]
    folder = _copy_cora(tmp_path)
    damage(folder)
    workdir = tmp_path / "run"
    assert train_main(["--config", TINY, "--workdir", str(workdir), "--set", "data.type=cora",
                       "--set", f"data.root={folder.parent}", "--set", "model.type=sign",
                       "--set", "data.hops=1"]) == 2
    err = _one_line(capsys)
    assert message in err, err
    _nothing_written(workdir)


def _copy_mutag(tmp_path) -> Path:
    folder = tmp_path / "MUTAG"
    shutil.copytree(MUTAG, folder)
    return folder


def _edit_lines(path: Path, edit):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


GIN_CASES = [
    (lambda f: (f / "MUTAG.txt").unlink(), "missing GIN-format file"),
    (lambda f: (f / "MUTAG.txt").write_text(""), "empty file"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: ["abc", *ls[1:]]), "line 1"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: ["500", *ls[1:]]), "truncated"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: ls[:40]), "truncated"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: [ls[0], "17", *ls[2:]]),
     "line 2: expected 'n_nodes label'"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: [ls[0], "9999999999999 1", *ls[2:]]),
     "line 2"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: [ls[0], "-3 1", *ls[2:]]), "line 2"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: [ls[0], ls[1], "0 2 1 99", *ls[3:]]),
     "line 3: neighbour 99 outside"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: [ls[0], ls[1], "0 2 1 -1", *ls[3:]]),
     "line 3: neighbour -1 outside"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: [ls[0], ls[1], "0 5 1", *ls[3:]]),
     "line 3: expected 'tag m nbr_1 ... nbr_m'"),
    (lambda f: _edit_lines(f / "MUTAG.txt", lambda ls: [ls[0], ls[1], "0 x 1", *ls[3:]]),
     "line 3: expected integers"),
    (lambda f: (f / "MUTAG.txt").write_bytes(b"\xff\xfe\x00\x01" * 20), "cannot read"),
    (lambda f: (f / "10fold_idx" / "train_idx-3.txt").unlink(), "missing fold file"),
    (lambda f: (f / "10fold_idx" / "test_idx-2.txt").write_text("0\n1\nabc\n"),
     "test_idx-2.txt, line 3: expected integers"),
    (lambda f: (f / "10fold_idx" / "test_idx-2.txt").write_text("0\n5000\n"),
     "graph index outside"),
    (lambda f: (f / "10fold_idx" / "test_idx-2.txt").write_text("0\n-1\n"),
     "graph index outside"),
    (lambda f: (f / "10fold_idx" / "test_idx-1.txt").write_text(
        (f / "10fold_idx" / "train_idx-1.txt").read_text()), "overlap"),
    (lambda f: (f / "10fold_idx" / "test_idx-4.txt").write_text("3\n3\n4\n"), "repeats"),
]


@pytest.mark.parametrize("damage, message", GIN_CASES, ids=[str(i) for i in range(len(GIN_CASES))])
def test_damaged_gin_file_is_named(damage, message, tmp_path):
    folder = _copy_mutag(tmp_path)
    damage(folder)
    with pytest.raises(DataError) as info:
        load_gin_text(folder, "MUTAG")
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)


def _tu_folder(tmp_path) -> Path:
    folder = tmp_path / "TOY"
    folder.mkdir()
    (folder / "TOY_A.txt").write_text("1, 2\n2, 1\n3, 4\n4, 3\n")
    (folder / "TOY_graph_indicator.txt").write_text("1\n1\n2\n2\n")
    (folder / "TOY_graph_labels.txt").write_text("1\n-1\n")
    (folder / "TOY_node_labels.txt").write_text("0\n1\n0\n1\n")
    return folder


TU_CASES = [
    (lambda f: (f / "TOY_A.txt").unlink(), "missing TU file"),
    (lambda f: (f / "TOY_graph_labels.txt").unlink(), "missing TU file"),
    (lambda f: (f / "TOY_A.txt").write_text("1, 2, 3\n"), "line 1: expected 'row, col'"),
    (lambda f: (f / "TOY_A.txt").write_text("1, 9\n"), "node id outside 1..4"),
    (lambda f: (f / "TOY_A.txt").write_text("0, 1\n"), "node id outside 1..4"),
    (lambda f: (f / "TOY_A.txt").write_text("1, 3\n"), "joins nodes of different graphs"),
    (lambda f: (f / "TOY_graph_indicator.txt").write_text("1\nx\n2\n2\n"),
     "line 2: expected integers"),
    (lambda f: (f / "TOY_graph_indicator.txt").write_text("1\n1\n3\n3\n"), "graph ids must run"),
    (lambda f: (f / "TOY_node_labels.txt").write_text("0\n1\n"), "2 node labels for 4 nodes"),
    (lambda f: (f / "TOY_graph_labels.txt").write_text("1\n"), "graph labels"),
]


@pytest.mark.parametrize("damage, message", TU_CASES, ids=[str(i) for i in range(len(TU_CASES))])
def test_damaged_tu_file_is_named(damage, message, tmp_path):
    folder = _tu_folder(tmp_path)
    load_tu(folder, "TOY")                    # the undamaged folder loads
    damage(folder)
    with pytest.raises(DataError) as info:
        load_tu(folder, "TOY")
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)


def _gz(path: Path, text: str) -> None:
    with gzip.open(path, "wt") as f:
        f.write(text)


def _ogb_folder(tmp_path) -> Path:
    folder = tmp_path / "ogbn_toy"
    raw = folder / "raw"
    raw.mkdir(parents=True)
    _gz(raw / "edge.csv.gz", "0,1\n1,2\n2,3\n")
    _gz(raw / "node-feat.csv.gz", "0.1,0.2\n0.3,0.4\n0.5,0.6\n0.7,0.8\n")
    _gz(raw / "node-label.csv.gz", "0\n1\n0\n1\n")
    _gz(raw / "num-node-list.csv.gz", "4\n")
    split = folder / "split" / "random"
    split.mkdir(parents=True)
    for name, ids in (("train", "0\n1\n"), ("valid", "2\n"), ("test", "3\n")):
        _gz(split / f"{name}.csv.gz", ids)
    return folder


OGB_CASES = [
    (lambda f: (f / "raw" / "edge.csv.gz").unlink(), "missing OGB file"),
    (lambda f: _truncate(f / "raw" / "node-feat.csv.gz"), "malformed or truncated CSV"),
    (lambda f: (f / "raw" / "node-label.csv.gz").write_bytes(b"not gzip"),
     "malformed or truncated CSV"),
    (lambda f: _gz(f / "raw" / "edge.csv.gz", "0,1,2\n"), "expected two columns"),
    (lambda f: _gz(f / "raw" / "edge.csv.gz", "0,9\n"), "node id outside 0..3"),
    (lambda f: _gz(f / "raw" / "edge.csv.gz", "0,-1\n"), "node id outside 0..3"),
    (lambda f: _gz(f / "raw" / "node-feat.csv.gz", "0.1,0.2\n"), "rows for"),
    (lambda f: _gz(f / "raw" / "node-feat.csv.gz", "0.1,nan\n0.3,0.4\n0.5,0.6\n0.7,0.8\n"),
     "NaN/inf"),
    (lambda f: _gz(f / "raw" / "node-label.csv.gz", "0\nx\n0\n1\n"), "malformed"),
    (lambda f: _gz(f / "split" / "random" / "test.csv.gz", "7\n"), "node id outside"),
    (lambda f: _gz(f / "split" / "random" / "test.csv.gz", "0\n"), "overlap"),
    (lambda f: _gz(f / "split" / "random" / "train.csv.gz", "0\n0\n1\n"), "repeats"),
]


@pytest.mark.parametrize("damage, message", OGB_CASES, ids=[str(i) for i in range(len(OGB_CASES))])
def test_damaged_ogb_file_is_named(damage, message, tmp_path):
    folder = _ogb_folder(tmp_path)
    load_ogb_nodeprop(folder)                 # the undamaged folder loads
    damage(folder)
    with pytest.raises(DataError) as info:
        load_ogb_nodeprop(folder)
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)


def _reddit_folder(tmp_path) -> Path:
    folder = tmp_path / "reddit"
    folder.mkdir()
    np.savez(folder / "reddit_data.npz", feature=np.ones((4, 2)), label=np.array([0, 1, 0, 1]),
             node_types=np.array([1, 1, 2, 3]))
    sp.save_npz(folder / "reddit_graph.npz", sp.csr_matrix(np.eye(4)))
    return folder


def _rewrite_npz(path: Path, **arrays):
    with np.load(path) as data:
        stored = {k: data[k] for k in data.files}
    stored.update(arrays)
    np.savez(path, **stored)


REDDIT_CASES = [
    (lambda f: (f / "reddit_data.npz").unlink(), "missing Reddit file"),
    (lambda f: _truncate(f / "reddit_data.npz"), "unreadable Reddit files"),
    (lambda f: _flip(f / "reddit_graph.npz", 60), "unreadable Reddit files"),
    (lambda f: (f / "reddit_graph.npz").write_text("x"), "unreadable Reddit files"),
    (lambda f: np.savez(f / "reddit_data.npz", feature=np.ones((4, 2))), "missing arrays"),
    (lambda f: _rewrite_npz(f / "reddit_data.npz", label=np.array([0, 1])), "rows but label"),
    (lambda f: _rewrite_npz(f / "reddit_data.npz", node_types=np.array([1, 1, 2, 7])),
     "node_types must be"),
    (lambda f: _rewrite_npz(f / "reddit_data.npz", feature=np.full((4, 2), np.nan)), "NaN/inf"),
    (lambda f: _rewrite_npz(f / "reddit_data.npz", feature=np.array(["a"] * 4, dtype=object)),
     "unreadable Reddit files"),
    (lambda f: sp.save_npz(f / "reddit_graph.npz", sp.csr_matrix(np.eye(3))), "adjacency"),
]


@pytest.mark.parametrize("damage, message", REDDIT_CASES,
                         ids=[str(i) for i in range(len(REDDIT_CASES))])
def test_damaged_reddit_file_is_named(damage, message, tmp_path):
    folder = _reddit_folder(tmp_path)
    load_reddit(folder)                       # the undamaged folder loads
    damage(folder)
    with pytest.raises(DataError) as info:
        load_reddit(folder)
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_the_corpus_is_as_wide_as_promised():
    n = (len(SET_CASES) + len(YAML_CASES) + 4 + len(COMM_CASES) + len(LINEAR_CASES)
         + len(DIAGNOSE_CASES) + 3 + len(QASM_CASES) + 8
         + len(PLANETOID_CASES) + len(GIN_CASES) + len(TU_CASES) + len(OGB_CASES)
         + len(REDDIT_CASES))
    assert n >= 150, n
    assert load(Config, TINY) and load(CommReportConfig)      # the bases themselves are fine
