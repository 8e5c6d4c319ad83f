"""The dataset registry: every dataset by name, each read from its own ``data`` section."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qtnet.config import Config, ConfigError, field, load
from qtnet.data import Dataset, available_datasets, load_dataset, register_dataset
from qtnet.data.bundled import BUNDLED

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_in_datasets_are_registered():
    assert {"digits", "cora", "citeseer", "pubmed", "grid"} <= set(available_datasets())


def test_digits_split_is_stratified_and_standardised_on_the_training_split():
    data = load_dataset(load(Config, None, ["data.test_fraction=0.2"]).data)
    assert data.sample_shape == (64,) and data.n_classes == 10
    assert len(data.y_train) + len(data.y_test) == 1797
    share = np.bincount(data.y_test) / np.bincount(np.r_[data.y_train, data.y_test])
    assert np.all(np.abs(share - 0.2) < 0.01)
    np.testing.assert_allclose(data.x_train.mean(0), 0.0, atol=1e-5)



def test_a_validation_split_comes_from_the_training_split_and_leaves_test_alone():
    plain = load_dataset(load(Config, None, ["data.standardize=false"]).data)
    data = load_dataset(load(Config, None, ["data.standardize=false",
                                            "data.val_fraction=0.2"]).data)
    assert plain.x_val is None
    np.testing.assert_array_equal(data.x_test, plain.x_test)
    np.testing.assert_array_equal(data.y_test, plain.y_test)
    rows = lambda x: {r.tobytes() for r in x}   # noqa: E731  (digits has no duplicate rows)
    assert rows(data.x_train) | rows(data.x_val) == rows(plain.x_train)
    assert not rows(data.x_train) & rows(data.x_val)
    share = np.bincount(data.y_val) / np.bincount(plain.y_train)
    assert np.all(np.abs(share - 0.2) < 0.02)
    again = load_dataset(load(Config, None, ["data.val_fraction=0.2"]).data)   # seeded
    np.testing.assert_allclose(again.x_train.mean(0), 0.0, atol=1e-5)
    np.testing.assert_array_equal(again.y_val, data.y_val)
    other = load_dataset(load(Config, None, ["data.standardize=false", "data.val_fraction=0.2",
                                             "data.split_seed=1"]).data)
    assert rows(other.x_val) != rows(data.x_val)

def test_a_planetoid_set_is_read_from_data_root(tmp_path):
    folder = tmp_path / "cora"
    folder.mkdir()
    for f in (BUNDLED / "cora").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "ind.cora.graph").write_bytes(b"")          # a broken copy: root is honoured
    with pytest.raises(ValueError, match=str(folder / "ind.cora.graph")):
        load_dataset(load(Config, None, ["data.type=cora", f"data.root={tmp_path}"]).data)
    data = load_dataset(load(Config, None, ["data.type=cora", "data.hops=2"]).data)   # bundled
    assert data.sample_shape == (3, 1433) and data.graph is not None
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (140, 500, 1000)


def test_a_planetoid_set_that_does_not_ship_needs_a_root(monkeypatch):
    monkeypatch.delenv("QTNET_DATA", raising=False)
    with pytest.raises(ConfigError, match="data.root: citeseer does not ship with qtnet"):
        load_dataset(load(Config, None, ["data.type=citeseer"]).data)


@dataclasses.dataclass(frozen=True)
class _ConstantConfig:
    type: str = field("constant_test_set")
    value: float = field(1.0, help="every feature")


@register_dataset("constant_test_set", _ConstantConfig)
def _constant(config: _ConstantConfig) -> Dataset:
    x = np.full((4, 2), config.value, np.float32)
    y = np.array([0, 1, 0, 1], np.int32)
    return Dataset(config.type, x, y, x, y, 2)


def test_a_registered_dataset_gets_its_own_section():
    config = load(Config, None, ["data.type=constant_test_set", "data.value=2.5"])
    assert load_dataset(config.data).x_train[0, 0] == 2.5
    with pytest.raises(ConfigError, match="unknown key data.hops in data; valid keys: type, "
                                          r"value \(for data.type constant_test_set\)"):
        load(Config, None, ["data.type=constant_test_set", "data.hops=1"])
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("constant_test_set", _ConstantConfig)(_constant)


def test_the_data_package_imports_neither_the_trainer_nor_jax():
    code = ("import sys, qtnet.data; print(sorted(m for m in sys.modules "
            "if m.startswith(('qtnet.training', 'qtnet.models')) or m.split('.')[0] == 'jax'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"
