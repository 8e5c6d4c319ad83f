"""Command lines: ``qtnet-train`` / ``python -m train`` and ``qtnet-eval``.

Exit status: 0 done; 1 the loss became non-finite; 2 a problem the user fixes (one line on
stderr, no traceback): a bad config, argument or data file, or a run folder that cannot be
used as it is (locked by another run, not writable, a file, a full disk at a save, an
unreadable, damaged or incompatible checkpoint); 128 + signal number when SIGTERM/SIGINT
stopped the run after a save. Checkpoint warnings (a damaged checkpoint set aside) are one
``warning:`` line each.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import sys
import warnings
from pathlib import Path

from qtnet.config import Config, ConfigError, load

EXIT_USAGE = 2
# File-system failures the user fixes (space, permissions, a read-only mount): one line, exit 2.
STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)


def _storage(err: OSError) -> str:
    """One line for a file-system failure; re-raise any other OSError (a bug to see)."""
    if err.errno not in STORAGE_ERRNOS:
        raise err
    return f"{err.strerror}: {err.filename}" if err.filename else str(err)


def _fail(prog: str, err: BaseException | str, code: int) -> int:
    text = str(err).strip().splitlines()
    print(f"{prog}: error: {text[0] if text else type(err).__name__}", file=sys.stderr)
    return code


@contextlib.contextmanager
def _one_line_warnings():
    """Show the trainer's checkpoint warnings as one ``warning:`` line (no source line)."""
    from qtnet.training.checkpoint import CheckpointWarning

    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, CheckpointWarning):
                print(f"warning: {message}", file=sys.stderr)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def train_parser(prog: str = "qtnet-train") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Train (or resume) a qtnet run.")
    parser.add_argument("--config", required=True, help="YAML file of overrides, e.g. "
                        "configs/quickstart.yaml")
    parser.add_argument("--workdir", default=None,
                        help="run folder (default: checkpoints/<config name>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value, e.g. "
                        "training.steps=200 (repeatable)")
    parser.add_argument("--force-restart", action="store_true",
                        help="start over even if the run folder holds an incompatible run "
                        "(it is moved aside, not deleted)")
    return parser


def train_main(argv=None, prog: str = "qtnet-train", trainer=None) -> int:
    """``qtnet-train``; ``trainer`` (a :class:`~qtnet.training.loop.Trainer`) keeps compiled
    steps across calls in one process."""
    args = train_parser(prog).parse_args(argv)
    try:
        config = load(Config, args.config, args.overrides)
    except ConfigError as err:
        return _fail(prog, err, EXIT_USAGE)
    import qtnet.experiments  # noqa: F401  (registers the paper's after-training tasks)
    from qtnet.training.loop import NonFiniteLossError, Stopped, train

    from qtnet.data import DataError

    workdir = Path(args.workdir or Path("checkpoints") / Path(args.config).stem)
    try:
        with _one_line_warnings():
            result = train(config, workdir, force_restart=args.force_restart, trainer=trainer)
    except (ConfigError, DataError) as err:
        return _fail(prog, err, EXIT_USAGE)
    except NonFiniteLossError as err:
        return _fail(prog, err, 1)
    except OSError as err:
        return _fail(prog, _storage(err), EXIT_USAGE)
    except Stopped as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return 128 + err.signum
    ev = result.eval_metrics
    print(f"done: step {result.step}, eval accuracy {ev.get('accuracy', float('nan')):.4f}, "
          f"eval loss {ev.get('loss', float('nan')):.4f}; run folder {result.workdir}")
    return 0


def eval_main(argv=None, trainer=None) -> int:
    """``qtnet-eval``; ``trainer`` as in :func:`train_main`."""
    parser = argparse.ArgumentParser(prog="qtnet-eval",
                                     description="Evaluate a run's checkpoint on the test split.")
    parser.add_argument("--workdir", required=True, help="run folder written by qtnet-train")
    parser.add_argument("--step", type=int, default=None,
                        help="checkpoint step (default: the newest readable one)")
    args = parser.parse_args(argv)
    from qtnet.data import DataError
    from qtnet.training.loop import evaluate

    try:
        with _one_line_warnings():
            metrics = evaluate(args.workdir, args.step, trainer=trainer)
    except (ConfigError, DataError) as err:
        return _fail("qtnet-eval", err, EXIT_USAGE)
    except OSError as err:
        return _fail("qtnet-eval", _storage(err), EXIT_USAGE)
    print(json.dumps(metrics))
    return 0
