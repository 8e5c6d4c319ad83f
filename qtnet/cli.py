"""The ``qtnet`` command line: ``qtnet simulate FILE.qasm --observable "Z3" [...]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_USAGE = 2


def _simulate(args) -> int:
    if args.x64:
        import jax

        jax.config.update("jax_enable_x64", True)
    from qtnet import compilation_cache
    from qtnet.circuits import from_qasm

    compilation_cache.enable(not args.no_compilation_cache)

    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"QASM file not found: {path}")
    if args.max_bond is not None and args.max_bond < 1:
        raise ValueError(f"--max-bond must be a positive integer, got {args.max_bond}")
    if args.cutoff is not None and not args.cutoff >= 0:
        raise ValueError(f"--cutoff must be >= 0, got {args.cutoff}")
    if not args.observable.strip():
        raise ValueError("--observable is empty; give a Pauli string such as 'Z0' or 'X0 Z5'")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text (byte {err.start}); is it a QASM "
                         f"file?") from None
    circuit = from_qasm(text)
    result = circuit.simulate(args.observable, backend=args.backend, max_bond=args.max_bond,
                              cutoff=args.cutoff)
    out = {"file": str(path), "observable": args.observable, **result.to_dict()}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"<{args.observable}> = {result.value:.12g}")
        print(f"  backend {result.backend}, {result.n_qubits} qubits, {result.n_gates} gates")
        print(f"  fidelity estimate {result.fidelity_estimate:.6g} (cutoff {result.cutoff:.3g}), "
              f"max bond used {result.max_bond_used}, {result.seconds:.3f} s")
    return 0


def _comm_report(args) -> int:
    from qtnet.comm.report import report_from_config, summary_text, write_outputs
    from qtnet.config import CommReportConfig, load

    config = load(CommReportConfig, args.config, args.overrides)
    if args.max_bond is not None and args.max_bond < 1:
        raise ValueError(f"--max-bond must be a positive integer, got {args.max_bond}")
    report = report_from_config(config, name=Path(args.config).stem, backend=args.backend,
                                max_bond=args.max_bond, dtype=args.dtype)
    if args.out:
        write_outputs(report, args.out)
    print(report.to_json() if args.json else summary_text(report))
    return 0


def _diagnose_gradients(args) -> int:
    from qtnet.config import GradientDiagnosticsConfig, load

    config = load(GradientDiagnosticsConfig, args.config, args.overrides)
    import jax

    jax.config.update("jax_enable_x64", True)
    from qtnet.experiments.barren_plateaus import (gradient_variance_sweep, summary_text,
                                                   write_outputs)

    result = gradient_variance_sweep(config.qubit_counts, config.depth_counts,
                                     samples=config.samples, seed=config.seed,
                                     backend=config.backend, max_bond=config.max_bond,
                                     echo=None if args.json else print)
    if args.out:
        write_outputs(result, args.out)
    print(json.dumps(result) if args.json else summary_text(result))
    return 0


def _federated(args) -> int:
    from qtnet.federated.config import load_run

    run = load_run(args.config, args.overrides)      # a bad config fails before any process
    from qtnet.federated.partition import check_partitions

    check_partitions(run)
    from qtnet.federated.runtime import FederationError, run_federation
    from qtnet.federated.server import REPORT

    workdir = Path(args.workdir or Path("runs") / f"federated-{Path(args.config).stem}")
    try:
        run_federation(run, workdir)
    except FederationError as err:
        print(f"qtnet federated: error: {err}\nthe checkpoints of the completed rounds are "
              f"kept in {workdir / 'checkpoints'}: run the same command to resume",
              file=sys.stderr)
        return 1
    report = json.loads((workdir / REPORT).read_text())
    print(json.dumps(report, indent=1) if args.json else
          f"qtnet federated: {report['rounds']} rounds (resumed from {report['resumed_from']}); "
          f"test accuracy {report['final_eval'].get('accuracy', float('nan')):.4f}; "
          f"{report['bits_per_round']:.4g} bits per round; report in {workdir / REPORT}")
    return 0


class BackendChoices:
    """``--backend`` choices, read from the backend registry when argparse first asks (so
    that ``qtnet --help`` does not import JAX)."""

    def _names(self) -> tuple[str, ...]:
        from qtnet.circuits import BACKENDS

        return BACKENDS

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __iter__(self):
        return iter(self._names())


class CostModelChoices(BackendChoices):
    """``comm-report --backend`` choices: the backends the contraction ledger can price."""

    def _names(self) -> tuple[str, ...]:
        from qtnet.comm.ledger import COST_MODELS

        return tuple(COST_MODELS)


def example_path(name: str = "ghz_ry.qasm") -> Path:
    """Path of an example circuit that ships with the package."""
    return Path(__file__).parent / "examples" / name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qtnet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulate", help="expectation value of a Pauli observable of a circuit")
    sim.add_argument("file", help="OpenQASM 2.0 or 3 file ('example' for the bundled example)")
    sim.add_argument("--observable", required=True,
                     help="Pauli string such as 'Z3' or 'X0 Z5'")
    sim.add_argument("--backend", choices=BackendChoices(), default="mps",
                     help="a network type, or auto: dense up to 20 qubits, mps above")
    sim.add_argument("--max-bond", type=int, default=None,
                     help="MPS bond cap (default: exact, as large as the circuit needs)")
    sim.add_argument("--cutoff", type=float, default=None,
                     help="drop Schmidt values of relative weight at most this (default: "
                          "eps^1.5 of the dtype, i.e. only numerically-zero ones; 0 keeps all)")
    sim.add_argument("--x64", action="store_true", help="complex128 instead of complex64")
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument("--no-compilation-cache", action="store_true",
                     help="compile without JAX's persistent cache (default: on, in "
                          "$QTNET_COMPILATION_CACHE or ~/.cache/qtnet/jax; "
                          "QTNET_COMPILATION_CACHE=off also turns it off)")
    sim.set_defaults(func=_simulate)
    comm = sub.add_parser("comm-report", help="communication ledger of a protocol config")
    comm.add_argument("--config", required=True, help="YAML file, e.g. configs/comm/figure2.yaml")
    comm.add_argument("--set", dest="overrides", action="append", default=[],
                      metavar="KEY=VALUE", help="override a config value (repeatable)")
    comm.add_argument("--json", action="store_true", help="print the report as JSON")
    comm.add_argument("--out", default=None, help="also write comm_report.{json,csv,png} and "
                                                  "comm_contractions.csv here")
    comm.add_argument("--backend", choices=CostModelChoices(), default="mps",
                      help="the backend whose contractions the ledger prices")
    comm.add_argument("--max-bond", type=int, default=None,
                      help="MPS bond cap of the priced run and of the classical MPS message "
                           "(default: exact, 2^(n/2))")
    comm.add_argument("--dtype", default="complex64",
                      choices=("float32", "float64", "complex64", "complex128"),
                      help="dtype of the simulated state (sets bytes and the complex factor)")
    comm.set_defaults(func=_comm_report)
    diag = sub.add_parser("diagnose", help="trainability diagnostics")
    diag_sub = diag.add_subparsers(dest="diagnostic", required=True)
    grads = diag_sub.add_parser("gradients", help="barren plateaus: Var[dC/dtheta] against "
                                                  "qubits and depth, global and local cost")
    grads.add_argument("--config", required=True,
                       help="YAML file, e.g. configs/diagnose/gradients.yaml")
    grads.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a config value (repeatable)")
    grads.add_argument("--out", default=None, help="also write gradients.{json,png} here")
    grads.add_argument("--json", action="store_true", help="print the result as JSON")
    grads.set_defaults(func=_diagnose_gradients)
    fed = sub.add_parser("federated", help="federated training on Flower (SuperLink + "
                                           "SuperNodes on localhost)")
    fed.add_argument("--config", required=True, help="YAML file, e.g. configs/federated/"
                                                     "tiny.yaml")
    fed.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help="override a config value (repeatable)")
    fed.add_argument("--workdir", default=None, help="run folder (default: runs/federated-"
                                                     "<config name>); resumes if it has "
                                                     "checkpoints")
    fed.add_argument("--json", action="store_true", help="print the report as JSON")
    fed.set_defaults(func=_federated)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "file", None) == "example":
        args.file = str(example_path())
    try:
        return args.func(args)
    except ValueError as err:       # QasmError included: one line, exit status 2
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"qtnet {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
