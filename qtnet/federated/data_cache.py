"""The run folder's copy of the built dataset, so that a client process (Flower starts one
per round) reads the data instead of building it again: the deep SIGN task's hop state and
teacher labels take most of a minute to build, a pickle of them a fraction of a second to read.

The file is keyed by the ``data`` section, JAX's precision mode and qtnet's source hash (an
edited loader builds anew). It is written atomically (a temporary file renamed into place),
so concurrent clients never read a partial file; one that does not unpickle to a
:class:`~qtnet.data.Dataset` of the expected key is built again and replaced, with a warning.
Pickle runs code from the file it reads: the cache is for the run folder this run wrote.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
import warnings
from pathlib import Path

from qtnet.compilation_cache import source_hash
from qtnet.data import Dataset, load_dataset

CACHE_DIR = "data_cache"


class DataCacheWarning(UserWarning):
    """A cached dataset could not be read or written; the data were built instead."""


def cache_key(data_config) -> str:
    """What the built dataset depends on: its config section, the precision, qtnet's code."""
    import jax

    what = {"data": dataclasses.asdict(data_config), "x64": bool(jax.config.x64_enabled),
            "qtnet": source_hash()}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def cached_loader(folder: str | Path):
    """A ``load_dataset`` that keeps its result in ``folder`` (see the module's doc)."""
    folder = Path(folder)

    def load(data_config) -> Dataset:
        key = cache_key(data_config)
        path = folder / f"{key[:16]}.pkl"
        if path.is_file():
            data = _read(path, key)
            if data is not None:
                return data
        data = load_dataset(data_config)
        _write(path, key, data)
        return data

    return load


def _read(path: Path, key: str) -> Dataset | None:
    try:
        with path.open("rb") as f:
            stored_key, data = pickle.load(f)
    except Exception as err:                       # noqa: BLE001 - any damage: rebuild
        warnings.warn(f"cached dataset {path} unreadable ({type(err).__name__}: {err}); "
                      "building the data again", DataCacheWarning, stacklevel=3)
        return None
    if stored_key != key or not isinstance(data, Dataset):
        warnings.warn(f"cached dataset {path} holds other data than its name says; building "
                      "the data again", DataCacheWarning, stacklevel=3)
        return None
    return data


def _write(path: Path, key: str, data: Dataset) -> None:
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as f:
            tmp = Path(f.name)
            pickle.dump((key, data), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception as err:                       # noqa: BLE001 - the data are built anyway
        warnings.warn(f"could not cache the dataset in {path.parent} "
                      f"({type(err).__name__}: {err})", DataCacheWarning, stacklevel=3)
        if tmp is not None:
            tmp.unlink(missing_ok=True)
