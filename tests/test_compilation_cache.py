"""The persistent compilation cache: where it lives, its key, and that a bad folder or a
damaged entry costs one warning and a compile, never a crash."""

import warnings

import jax
import jax.numpy as jnp
import pytest

from qtnet import compilation_cache as cc
from qtnet.config import Config, ConfigError, from_dict


@pytest.fixture
def cache_env(monkeypatch, tmp_path):
    """The cache as a user has it: env var unset, ~/.cache redirected to tmp_path; the
    cache is turned off again afterwards."""
    monkeypatch.delenv(cc.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cc, "MIN_COMPILE_SECONDS", 0.0)   # cache even tiny test programs
    yield tmp_path
    cc.enable(False)
    jax.clear_caches()


def test_where_the_cache_lives(cache_env, monkeypatch):
    keyed = f"qtnet-{cc.qtnet_version()}-{cc.source_hash()}"
    assert cc.cache_dir() == cache_env / "xdg" / "qtnet" / "jax" / keyed
    monkeypatch.setenv(cc.ENV, str(cache_env / "env"))
    assert cc.cache_dir() == cache_env / "env" / keyed
    assert cc.cache_dir(base=cache_env / "cfg") == cache_env / "cfg" / keyed  # config wins
    assert cc.cache_dir(enabled=False) is None
    for word in ("off", "0", "False", "none"):
        monkeypatch.setenv(cc.ENV, word)
        assert cc.cache_dir(base=cache_env / "cfg") is None      # the env switch wins


def test_the_key_follows_the_source(tmp_path, monkeypatch):
    package = tmp_path / "qtnet"
    (package / "tn").mkdir(parents=True)
    (package / "tn" / "evolve.py").write_text("x = 1\n")
    before = cc.source_hash(package)
    assert len(before) == 12 and before == cc.source_hash(package)
    (package / "tn" / "evolve.py").write_text("x = 2\n")
    assert cc.source_hash(package) != before
    monkeypatch.delenv(cc.ENV)
    monkeypatch.setattr(cc, "_source_hash", "0123456789ab")
    assert cc.cache_dir(base="/x").name == f"qtnet-{cc.qtnet_version()}-0123456789ab"


def test_config_section():
    config = from_dict(Config, {"compilation": {"cache": False, "cache_dir": "/tmp/c"}})
    assert config.compilation.cache is False and config.compilation.cache_dir == "/tmp/c"
    with pytest.raises(ConfigError, match="compilation"):
        from_dict(Config, {"compilation": {"dir": "/tmp/c"}})


def compile_something():
    f = jax.jit(lambda x: jnp.sin(x) @ x.T + 1.5)
    return float(f(jnp.ones((3, 3))).sum())


def test_programs_are_written_and_read_back(cache_env):
    path = cc.enable()
    assert path is not None and path.is_relative_to(cache_env)
    jax.clear_caches()
    expected = compile_something()
    entries = sorted(path.glob("*-cache"))
    assert entries, "nothing was written to the cache"
    jax.clear_caches()                       # a new process: only the disk cache remains
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compile_something() == expected
    assert sorted(path.glob("*-cache")) == entries


def test_a_file_in_place_of_the_folder_is_one_warning(cache_env):
    blocker = cache_env / "blocker"
    blocker.write_text("not a folder")
    with pytest.warns(cc.CompilationCacheWarning, match="compilation cache off") as record:
        assert cc.enable(base=blocker) is None
    assert len(record) == 1
    jax.clear_caches()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compile_something() == pytest.approx(3 * 3 * (jnp.sin(1.0) * 3 + 1.5))


def test_damaged_entries_are_one_warning_and_a_compile(cache_env):
    path = cc.enable()
    jax.clear_caches()
    expected = compile_something()
    entries = sorted(path.glob("*-cache"))
    for entry in entries:
        entry.write_bytes(b"garbage")
    (path / "empty-cache").write_bytes(b"")
    cc.enable(False)
    with pytest.warns(cc.CompilationCacheWarning, match=f"removed {len(entries) + 1} damaged"):
        assert cc.enable() == path
    jax.clear_caches()
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # JAX would warn on each unreadable entry
        assert compile_something() == expected
    assert all(not cc.damaged(e) for e in path.glob("*-cache"))


def test_simulate_uses_the_cache_and_its_switch(cache_env, monkeypatch, capsys):
    from qtnet.cli import main

    monkeypatch.setenv(cc.ENV, str(cache_env / "sim"))
    jax.clear_caches()
    # the network backend compiles its contraction (concrete MPS and dense runs are host
    # numpy and compile nothing)
    network = ["simulate", "example", "--observable", "Z0", "--backend", "tn"]
    assert main(network + ["--no-compilation-cache"]) == 0
    assert not (cache_env / "sim").exists()
    jax.clear_caches()
    assert main(network) == 0
    assert list((cache_env / "sim").glob("*/*-cache"))
    capsys.readouterr()


def test_the_trainer_uses_the_configured_cache(cache_env, capsys):
    from pathlib import Path

    from qtnet.training.cli import train_main

    tiny = str(Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml")
    folder = cache_env / "from_config"
    sets = ["training.steps=1", "model.type=mlp", "model.hidden=8", "training.batch_size=8",
            f"compilation.cache_dir={folder}"]
    jax.clear_caches()
    assert train_main(["--config", tiny, "--workdir", str(cache_env / "run"),
                       *[a for s in sets for a in ("--set", s)]]) == 0
    assert list(folder.glob("qtnet-*/*-cache"))
    assert not (cache_env / "xdg" / "qtnet").exists()   # the default folder was not used
    capsys.readouterr()
