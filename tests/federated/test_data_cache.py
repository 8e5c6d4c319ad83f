"""The run folder's copy of the built dataset: a second process reads it instead of building,
another data config or a damaged file builds anew (with a warning), and the file is only
ever whole."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from qtnet.federated import data_cache, load_run
from qtnet.federated.data_cache import DataCacheWarning, cache_key, cached_loader

TINY = "configs/federated/tiny.yaml"


@pytest.fixture
def data_config():
    return load_run(TINY).config.data


@pytest.fixture
def builds(monkeypatch):
    """Count the loader's builds (the real loader does them)."""
    calls = []
    real = data_cache.load_dataset

    def counting(config):
        calls.append(config)
        return real(config)

    monkeypatch.setattr(data_cache, "load_dataset", counting)
    return calls


def test_second_load_reads_the_file(tmp_path, data_config, builds):
    first = cached_loader(tmp_path)(data_config)
    (path,) = tmp_path.glob("*.pkl")
    assert not list(tmp_path.glob(".tmp-*"))            # renamed into place, nothing left
    second = cached_loader(tmp_path)(data_config)
    assert len(builds) == 1
    np.testing.assert_array_equal(second.x_train, first.x_train)
    np.testing.assert_array_equal(second.y_test, first.y_test)
    assert second.n_classes == first.n_classes


def test_another_data_config_is_another_entry(tmp_path, data_config, builds):
    other = dataclasses.replace(data_config, split_seed=data_config.split_seed + 1)
    assert cache_key(other) != cache_key(data_config)
    load = cached_loader(tmp_path)
    load(data_config)
    load(other)
    assert len(builds) == 2 and len(list(tmp_path.glob("*.pkl"))) == 2


@pytest.mark.parametrize("damage", [b"", b"not a pickle"])
def test_a_damaged_file_is_built_again_and_replaced(tmp_path, data_config, builds, damage):
    load = cached_loader(tmp_path)
    load(data_config)
    (path,) = tmp_path.glob("*.pkl")
    path.write_bytes(damage)
    with pytest.warns(DataCacheWarning, match="unreadable"):
        again = load(data_config)
    assert len(builds) == 2 and len(again.y_train) > 0
    load(data_config)                                   # the rebuilt file is good
    assert len(builds) == 2


def test_a_file_of_another_key_is_not_trusted(tmp_path, data_config, builds):
    load = cached_loader(tmp_path)
    load(data_config)
    (path,) = tmp_path.glob("*.pkl")
    _, data = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps(("another key", data)))
    with pytest.warns(DataCacheWarning, match="other data"):
        load(data_config)
    assert len(builds) == 2


def test_an_unwritable_folder_still_gives_the_data(tmp_path, data_config):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.warns(DataCacheWarning, match="could not cache"):
        data = cached_loader(blocker / "cache")(data_config)
    assert len(data.y_train) > 0
