"""Reading a run folder's stored ``config.yaml``, also one written before sections were tagged.

Until the ``model`` and ``data`` sections were chosen by ``type``, a resolved config held every
model key and every dataset key in one flat section, and the grid dataset took its bond cap,
cutoff and dtype from ``backend``. Such a file is upgraded on reading: keys that belong to
other types are dropped, and the grid's keys are copied from ``backend``, so an older run
resumes (and ``qtnet-eval`` reads it) as it did before.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from qtnet.config.choice import section_class
from qtnet.config.load import from_dict, read_yaml
from qtnet.config.schema import Config

# The keys of the flat sections that resolved configs held before the tagged sections.
FLAT_KEYS = {
    "model": {"type", "layers", "depth", "ansatz", "init_scale", "hidden", "activation",
              "dropout", "input_dropout"},
    "data": {"name", "test_fraction", "split_seed", "standardize", "hops", "graph_qubits",
             "sampled_nodes", "feature_bond", "classes"},
}


def upgrade_flat_sections(data: dict) -> dict:
    """A stored config with the old flat ``model`` / ``data`` sections, in the tagged form.

    A mapping already in the tagged form (it has a key outside the flat set) is returned as
    it is; so is anything the upgrade would not make valid (the loader then names it).
    """
    out = dict(data)
    for kind, flat in FLAT_KEYS.items():
        old = out.get(kind)
        if not isinstance(old, dict) or not set(old) <= flat or not set(old) - {"type", "name"}:
            continue
        tag = old.get("type", old.get("name"))
        try:
            valid = {f.name for f in dataclasses.fields(section_class(kind, tag))}
        except ValueError:            # unknown type: left for the loader to report
            continue
        new = {k: v for k, v in old.items() if k in valid and k != "name"}
        new["type"] = tag
        if kind == "data" and tag == "grid":
            backend = out.get("backend") or {}
            new.update(seed=old.get("split_seed", 0), max_bond=backend.get("max_bond") or 32,
                       cutoff=backend.get("cutoff", 0.0),
                       dtype=backend.get("dtype", "float32"))
        out[kind] = new
    return out


def read_run_config(path: str | Path) -> Config:
    """The :class:`Config` stored in a run folder's ``config.yaml`` (older layouts upgraded)."""
    return from_dict(Config, upgrade_flat_sections(read_yaml(path)))
