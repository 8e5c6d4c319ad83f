"""Tagged sections: ``model.type`` / ``data.type`` pick the dataclass; round trips through
``--set``, ``dump_yaml`` and a stored run config; unknown keys and types name the valid ones."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qtnet.config import (Config, ConfigError, dump_yaml, load, read_run_config,
                          section_types)
from qtnet.config.stored import upgrade_flat_sections

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "tiny.yaml"

# Overrides that are valid for one type only: (type, key=value ...).
MODELS = {
    "figure2": st.tuples(st.integers(1, 64), st.integers(1, 64)).map(
        lambda v: [f"model.layers={v[0]}", f"model.depth={v[1]}"]),
    "mlp": st.integers(1, 4096).map(lambda h: [f"model.hidden={h}"]),
    "sign": st.tuples(st.sampled_from(["poly", "prelu"]), st.floats(0, 1)).map(
        lambda v: [f"model.activation={v[0]}", f"model.dropout={v[1]!r}"]),
}
DATA = {
    "digits": st.tuples(st.floats(0.05, 0.95), st.booleans()).map(
        lambda v: [f"data.test_fraction={v[0]!r}", f"data.standardize={v[1]}"]),
    "cora": st.tuples(st.integers(0, 64), st.sampled_from(["null", "/some/folder"])).map(
        lambda v: [f"data.hops={v[0]}", f"data.root={v[1]}"]),
    "citeseer": st.integers(0, 64).map(lambda h: [f"data.hops={h}"]),
    "grid": st.tuples(st.sampled_from([1, 3, 7]), st.integers(1, 512),
                      st.sampled_from(["float32", "float64"])).map(
        lambda v: [f"data.hops={v[0]}", f"data.max_bond={v[1]}", f"data.dtype={v[2]}"]),
}


@st.composite
def tagged_overrides(draw):
    model, data = draw(st.sampled_from(sorted(MODELS))), draw(st.sampled_from(sorted(DATA)))
    tag = draw(st.sampled_from(["type", "name"]))        # data.name is accepted for data.type
    return [f"model.type={model}", *draw(MODELS[model]), f"data.{tag}={data}",
            *draw(DATA[data])], model, data


@settings(max_examples=40, deadline=None)
@given(case=tagged_overrides())
def test_tagged_sections_round_trip_through_set_dump_and_resume(tmp_path_factory, case):
    overrides, model, data = case
    config = load(Config, TINY, overrides)        # tiny.yaml sets figure2 keys: a new type
    assert (config.model.type, config.data.type) == (model, data)   # starts afresh
    path = tmp_path_factory.mktemp("run") / "config.yaml"
    dump_yaml(config, path)
    assert load(Config, path) == config
    assert read_run_config(path) == config
    assert dataclasses.asdict(read_run_config(path)) == dataclasses.asdict(config)


def test_every_registered_type_has_its_own_section():
    assert section_types("model") == ["chain", "deep_sign", "figure2", "mlp", "qcnn", "sign",
                                      "transfer"]
    assert {"digits", "cora", "citeseer", "pubmed", "grid"} <= set(section_types("data"))
    fields = {t: [f.name for f in dataclasses.fields(
        load(Config, None, [f"model.type={t}", "backend.max_bond=8"]).model)]
        for t in section_types("model")}
    assert fields == {"chain": ["type", "parties", "rounds", "depth", "ansatz", "init_scale",
                                "placement"],
                      "deep_sign": ["type", "layers", "weight_bond", "init_scale"],
                      "figure2": ["type", "layers", "depth", "ansatz", "init_scale"],
                      "mlp": ["type", "hidden"],
                      "qcnn": ["type", "init", "init_scale"],
                      "sign": ["type", "hidden", "activation", "dropout", "input_dropout",
                               "init", "prelu"],
                      "transfer": ["type", "extractor", "extractor_step", "layers", "depth",
                                   "ansatz", "init_scale"]}


@pytest.mark.parametrize("overrides, message", [
    (["model.type=mlp", "model.layers=2"],
     "unknown key model.layers in model; valid keys: type, hidden (for model.type mlp)"),
    (["model.type=figure2", "model.hidden=8"], "unknown key model.hidden in model; valid keys: "
     "type, layers, depth, ansatz, init_scale (for model.type figure2)"),
    (["data.type=cora", "data.standardize=false"], "unknown key data.standardize in data; "
     "valid keys: type, hops, root, self_loops (for data.type cora)"),
    (["data.hops=3"], "unknown key data.hops in data; valid keys: type, test_fraction, "
     "split_seed, standardize, val_fraction (for data.type digits)"),
    (["data.type=grid", "data.split_seed=1"], "unknown key data.split_seed in data; valid "
     "keys: type, graph_qubits, hops, sampled_nodes, feature_bond, classes, max_bond, cutoff, "
     "dtype, seed (for data.type grid)"),
    (["model.type=vit"], "model.type: unknown model 'vit'; valid models: chain, deep_sign, "
     "figure2, mlp, qcnn, sign, transfer"),
    (["data.name=mnist"], "data.type: unknown dataset 'mnist'; valid datasets: citeseer, "),
    (["model.type=3"], "model.type: unknown model 3; valid models: chain, deep_sign, figure2, "
     "mlp, qcnn, sign, transfer"),
    (["data.type=cora", "data.name=grid"], "data.type: data.type='cora', data.name='grid' "
     "disagree"),
    (["data.type=grid", "data.max_bond=null"], "data.max_bond: expected int, got null"),
    (["data.type=grid", "data.dtype=complex64"], "data.dtype: expected one of float32, "
     "float64; got 'complex64'"),
    (["data.type=grid", "data.graph_qubits=9"], "data.graph_qubits: a square grid needs an "
     "even number of qubits, got 9"),
    (["data.type=grid", "data.hops=5"], "data.hops: the hop register must be full"),
    (["model.type=sign", "model.activation=relu"],
     "model.activation: expected one of poly, prelu; got 'relu'"),
])
def test_unknown_keys_and_types_list_the_valid_ones(overrides, message):
    with pytest.raises(ConfigError) as info:
        load(Config, None, overrides)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_later_layer_changes_the_type_and_keeps_the_same_type_merged(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model:\n  type: sign\n  hidden: 32\ndata:\n  name: cora\n  hops: 2\n")
    same = load(Config, path, ["model.dropout=0.1", "data.type=cora"])
    assert (same.model.hidden, same.model.dropout, same.data.hops) == (32, 0.1, 2)
    switched = load(Config, path, ["model.type=mlp", "data.type=grid"])
    assert switched.model == load(Config, None, ["model.type=mlp"]).model
    assert switched.data == load(Config, None, ["data.type=grid"]).data


def test_needs_x64_follows_every_section_with_a_dtype():
    assert not load(Config, None, ["data.type=grid"]).needs_x64
    assert load(Config, None, ["data.type=grid", "data.dtype=float64"]).needs_x64
    assert load(Config, None, ["backend.dtype=complex128"]).needs_x64


# A stored config.yaml as runs wrote it before the sections were tagged (abridged: the other
# sections are as they are now).
FLAT_MODEL = {"type": "figure2", "layers": 2, "depth": 2, "ansatz": "ry_cz", "init_scale": 0.1,
              "hidden": 64, "activation": "poly", "dropout": 0.4, "input_dropout": 0.3}
FLAT_DATA = {"name": "digits", "test_fraction": 0.25, "split_seed": 0, "standardize": True,
             "hops": 5, "graph_qubits": 32, "sampled_nodes": 20000, "feature_bond": 4,
             "classes": 4}


@pytest.mark.parametrize("model, data, backend, expected", [
    ({}, {}, {}, []),
    ({"type": "mlp", "hidden": 8}, {}, {}, ["model.type=mlp", "model.hidden=8"]),
    ({"type": "sign", "dropout": 0.0}, {"name": "cora", "hops": 2}, {"type": "dense"},
     ["model.type=sign", "model.dropout=0.0", "data.type=cora", "data.hops=2",
      "backend.type=dense"]),
    ({"type": "sign"}, {"name": "grid", "hops": 3, "graph_qubits": 8, "split_seed": 2},
     {"max_bond": 4, "dtype": "float64"},
     ["model.type=sign", "data.type=grid", "data.hops=3", "data.graph_qubits=8",
      "data.seed=2", "data.max_bond=4", "data.dtype=float64", "backend.max_bond=4",
      "backend.dtype=float64"]),
    ({"type": "sign"}, {"name": "grid", "hops": 3}, {"max_bond": None},
     ["model.type=sign", "data.type=grid", "data.max_bond=32"]),
])
def test_a_run_config_stored_before_tagged_sections_reads_as_before(tmp_path, model, data,
                                                                      backend, expected):
    stored = dataclasses.asdict(Config())
    stored.update(model={**FLAT_MODEL, **model}, data={**FLAT_DATA, **data},
                  backend={**stored["backend"], **backend})
    path = tmp_path / "config.yaml"
    path.write_text(__import__("yaml").safe_dump(stored))
    assert read_run_config(path) == load(Config, None, expected)
    tagged = dataclasses.asdict(load(Config, None, expected))
    assert upgrade_flat_sections(tagged) == tagged


def test_the_config_package_imports_neither_models_nor_data():
    code = ("import sys, qtnet.config; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'flax') "
            "or m.startswith(('qtnet.models', 'qtnet.data', 'qtnet.training'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_schema_choices_are_the_engine_registries():
    """qtnet.config stays free of JAX, so it spells the backend and ansatz names; they must be
    the engine's own lists."""
    from qtnet.config import BackendConfig, CommReportConfig
    from qtnet.models import Figure2Config
    from qtnet.tn import backends
    from qtnet.tn.ansatz import ANSATZE

    def choices(cls, name):
        return tuple(f.metadata["choices"] for f in dataclasses.fields(cls) if f.name == name)[0]

    assert set(choices(BackendConfig, "type")) == set(backends.names())
    assert tuple(choices(CommReportConfig, "ansatz")) == ANSATZE
    assert tuple(choices(Figure2Config, "ansatz")) == ANSATZE
