"""Config loading: defaults, YAML overrides, --set, and errors that name the key."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qtnet.config import Config, ConfigError, dump_yaml, load, parse_overrides


def test_defaults_file_and_overrides_compose(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("# comment\nmodel:\n  layers: 3\noptimizer:\n  learning_rate: 1e-3\n")
    config = load(Config, path, ["model.depth=5", "backend.max_bond=null"])
    assert config.model.layers == 3 and config.model.depth == 5
    assert config.optimizer.learning_rate == pytest.approx(1e-3)
    assert config.backend.max_bond is None
    assert config.training == Config().training
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.model.layers = 4


def test_resolved_config_round_trips(tmp_path):
    config = load(Config, None, ["training.steps=7", "schedule.type=cosine"])
    dump_yaml(config, tmp_path / "config.yaml")
    assert load(Config, tmp_path / "config.yaml") == config


@given(steps=st.integers(1, 10**6), lr=st.floats(0, 10, allow_nan=False),
       dtype=st.sampled_from(["float32", "float64", "complex64", "complex128"]))
def test_set_overrides_take_any_valid_value(steps, lr, dtype):
    config = load(Config, None, [f"training.steps={steps}", f"optimizer.learning_rate={lr!r}",
                                 f"backend.dtype={dtype}"])
    assert (config.training.steps, config.optimizer.learning_rate) == (steps, lr)
    assert config.backend.dtype == dtype


@pytest.mark.parametrize("override, message", [
    ("training.stepz=3", "unknown key training.stepz in training; valid keys: steps, "),
    ("nope.x=1", "unknown key nope in the top level; valid keys: model, data,"),
    ("training.steps=abc", "training.steps: expected int, got 'abc'"),
    ("training.steps=2.5", "training.steps: expected int, got 2.5"),
    ("training.steps=0", "training.steps: expected a value >= 1, got 0"),
    ("data.test_fraction=1.5", "data.test_fraction: expected a value <= 0.95, got 1.5"),
    ("backend.type=gpu", "backend.type: expected one of mps, dense, tree, tn; got 'gpu'"),
    ("data.standardize=3", "data.standardize: expected bool, got 3"),
    ("model.ansatz=su4", "model.ansatz: su4 gates are complex"),
    ("training", "expected key=value"),
])
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError) as info:
        load(Config, None, [override])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_file_problems(tmp_path):
    with pytest.raises(ConfigError, match="config file not found: .*missing.yaml"):
        load(Config, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  layers: [1, 2\n")
    with pytest.raises(ConfigError, match=r"malformed YAML in .*bad.yaml at line \d+"):
        load(Config, bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping of sections"):
        load(Config, listy)


def test_parse_overrides_nests_and_reads_scalars():
    assert parse_overrides(["a.b=3", "a.c=x", "d=true"]) == {"a": {"b": 3, "c": "x"}, "d": True}
