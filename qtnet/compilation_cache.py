"""JAX's persistent compilation cache for the trainer and ``qtnet simulate``.

A new process compiles every program again; with the cache on, a restarted or resumed run
reads the compiled programs from disk instead. Where the cache lives, first match wins:

1. off if ``compilation.cache: false`` (config) or ``QTNET_COMPILATION_CACHE=off`` (env; also
   ``0``, ``false``, ``no``, ``none``);
2. ``compilation.cache_dir`` from the config;
3. the directory ``QTNET_COMPILATION_CACHE`` names;
4. ``$XDG_CACHE_HOME/qtnet/jax``, else ``~/.cache/qtnet/jax``.

Keying: JAX keys each entry by a hash of the lowered program, the compile options, the jax /
jaxlib versions and the backend, so a changed program never hits an old entry. qtnet adds a
sub-directory ``qtnet-<version>-<hash of qtnet's source files>``: a qtnet upgrade or an edit
of any qtnet module starts an empty cache, so nothing qtnet-specific that JAX's key might
not see (a host callback, a changed custom rule) can reuse a stale program, and old caches
are whole directories one can delete.

A cache directory that cannot be created or written (a file in its place, no permission,
a read-only disk) gives one :class:`CompilationCacheWarning` and compilation without the
cache. Entries that are not compressed executables (garbage, empty files) are removed with
one warning before JAX reads them; an entry damaged past its header is compiled again (JAX
warns for it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path

ENV = "QTNET_COMPILATION_CACHE"
OFF_WORDS = ("off", "0", "false", "no", "none")
# Cache every program, however quick to compile (JAX's default, 1 s, leaves out the many
# sub-second programs that together cost seconds; the quickstart's cache: 13 entries, 0.6 MB).
MIN_COMPILE_SECONDS = 0.0

_source_hash: str | None = None
_active: str | None = None       # the directory JAX was last pointed at ("" = off)


class CompilationCacheWarning(UserWarning):
    """The persistent compilation cache could not be used; programs are compiled."""


def source_hash(root: Path | None = None) -> str:
    """First 12 hex digits of a SHA-256 over the ``*.py`` files (paths and contents) under
    ``root`` (default: the installed qtnet package)."""
    global _source_hash
    if root is not None:
        return hash_sources(root)
    if _source_hash is None:
        _source_hash = hash_sources(Path(__file__).resolve().parent)
    return _source_hash


def hash_sources(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def qtnet_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qtnet")
    except PackageNotFoundError:
        return "unknown"


def default_base() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qtnet" / "jax"


def cache_dir(enabled: bool = True, base: str | os.PathLike | None = None) -> Path | None:
    """The keyed cache directory the rules above choose, or None when the cache is off.

    Args:
      enabled: the config's switch (``compilation.cache``).
      base: the config's directory (``compilation.cache_dir``); None for env / default.
    """
    env = os.environ.get(ENV, "").strip()
    if not enabled or env.lower() in OFF_WORDS:
        return None
    root = Path(base).expanduser() if base else Path(env).expanduser() if env else default_base()
    return root / f"qtnet-{qtnet_version()}-{source_hash()}"


def writable(path: Path) -> str | None:
    """None if ``path`` is (or can be made) a writable directory, else the reason it is not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as err:
        return f"{err.strerror or err}: {err.filename or path}"
    return None


# How JAX's compressed entries start: a zstd frame, or a zlib stream (0x78 then a byte that
# makes the pair a multiple of 31).
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def damaged(entry: Path) -> bool:
    """Whether a cache entry cannot be one of JAX's compressed executables."""
    with open(entry, "rb") as f:
        head = f.read(4)
    if head == ZSTD_MAGIC:
        return False
    return len(head) < 2 or head[0] != 0x78 or (head[0] << 8 | head[1]) % 31 != 0


def remove_damaged(path: Path) -> int:
    """Delete the damaged entries of the cache in ``path``; returns how many."""
    removed = 0
    for entry in path.glob("*-cache"):
        try:
            if damaged(entry):
                entry.unlink()
                removed += 1
        except OSError:
            continue        # being replaced by another process, or gone already
    return removed


def enable(enabled: bool = True, base: str | os.PathLike | None = None) -> Path | None:
    """Point JAX's persistent cache at :func:`cache_dir` (or turn it off); returns the
    directory in use. Safe to call again: a different directory takes effect at once."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    global _active
    path = cache_dir(enabled, base)
    if path is not None:
        problem = writable(path)
        if problem is not None:
            warnings.warn(f"compilation cache off ({problem}); compiling every program",
                          CompilationCacheWarning, stacklevel=2)
            path = None
        elif removed := remove_damaged(path):
            warnings.warn(f"compilation cache: removed {removed} damaged entries from {path}; "
                          "those programs are compiled again", CompilationCacheWarning,
                          stacklevel=2)
    target = "" if path is None else str(path)
    if target != _active:
        compilation_cache.reset_cache()
        jax.config.update("jax_compilation_cache_dir", target or None)
        jax.config.update("jax_enable_compilation_cache", path is not None)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
        _active = target
    return path
