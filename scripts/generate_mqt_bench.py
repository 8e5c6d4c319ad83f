"""Write the MQT Bench suite that scripts/bench_real_circuits.py --suite mqt runs: OpenQASM 2
files plus each circuit's exact <Z_0> from qiskit-aer's statevector.

Runs in the anchors' environment (``bash scripts/setup_anchors.sh``), never in qtnet's::

    .venv-anchors/bin/python scripts/generate_mqt_bench.py            # benchmarks/mqt_bench/

Each circuit is MQT Bench's target-independent level (``BenchmarkLevel.INDEP``), transpiled
to one- and two-qubit qelib1 gates (MQT Bench keeps composite gates such as Grover's ``Q``,
which need definitions a QASM 2 reader may not have; quimb's reader has no ``rzz``), final
measurements removed. Circuits with more than ``--max-gates`` gates are left out.
``manifest.json`` holds, per file, the qubit and gate counts and <Z_0> (qubit q[0]) of the
final state, computed by qiskit-aer's statevector simulator in complex128.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# (benchmark, qubit counts): MQT Bench's algorithms at 8-24 qubits.
SUITE = (
    ("ghz", (8, 16, 24)), ("graphstate", (8, 16, 24)), ("wstate", (8, 16, 24)),
    ("dj", (8, 16, 24)), ("bv", (8, 16, 24)), ("qft", (8, 16, 24)),
    ("qftentangled", (8, 16, 24)), ("qpeexact", (8, 16, 24)), ("qpeinexact", (8, 16)),
    ("ae", (8, 16, 24)), ("qaoa", (8, 12, 16)), ("vqe_real_amp", (8, 16, 24)),
    ("vqe_su2", (8, 16, 24)), ("vqe_two_local", (8, 16, 24)), ("qnn", (8, 12, 16)),
    ("randomcircuit", (8, 10, 12)), ("draper_qft_adder", (8, 16)),
    ("cdkm_ripple_carry_adder", (8, 16, 24)), ("qwalk", (8, 12, 16)), ("grover", (8, 9, 10, 11)),
)
BASIS = ["u3", "u2", "u1", "cx", "h", "x", "rz", "ry", "rx", "cp", "swap", "cz"]  # qtnet + quimb
SEED = 7


def build(name: str, n: int):
    from mqt.bench import BenchmarkLevel, get_benchmark
    from qiskit import transpile

    qc = get_benchmark(name, BenchmarkLevel.INDEP, n)
    qc = qc.remove_final_measurements(inplace=False)
    return transpile(qc, basis_gates=BASIS, optimization_level=1, seed_transpiler=SEED)


def exact_z0(qc) -> float:
    from qiskit.quantum_info import Pauli
    from qiskit_aer import AerSimulator

    sim = qc.copy()
    sim.save_statevector()
    state = AerSimulator(method="statevector", precision="double").run(sim).result() \
        .get_statevector()
    label = "I" * (qc.num_qubits - 1) + "Z"            # qiskit: qubit 0 is the last letter
    return float(state.expectation_value(Pauli(label)).real)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/mqt_bench")
    parser.add_argument("--max-gates", type=int, default=23_000)
    parser.add_argument("--only", nargs="+", help="these files (e.g. grover_11.qasm); the "
                        "manifest keeps the others")
    args = parser.parse_args(argv)
    from qiskit import qasm2

    os.makedirs(args.out, exist_ok=True)
    manifest = {}
    if args.only and os.path.exists(os.path.join(args.out, "manifest.json")):
        with open(os.path.join(args.out, "manifest.json")) as f:
            manifest = json.load(f)["circuits"]
    for name, sizes in SUITE:
        for n in sizes:
            if args.only and f"{name}_{n}.qasm" not in args.only:
                continue
            start = time.perf_counter()
            qc = build(name, n)
            gates = sum(1 for inst in qc.data if inst.operation.name != "barrier")
            if gates > args.max_gates:
                print(f"{name}_{n}: {gates} gates > {args.max_gates}, left out")
                continue
            file = f"{name}_{n}.qasm"
            with open(os.path.join(args.out, file), "w") as f:
                f.write(qasm2.dumps(qc))
            manifest[file] = {"benchmark": name, "qubits": qc.num_qubits, "gates": gates,
                              "exact_z0": exact_z0(qc), "exact_source": "qiskit-aer statevector"}
            print(f"{file:<34} {qc.num_qubits:>3} qubits {gates:>6} gates "
                  f"<Z0> = {manifest[file]['exact_z0']:+.12f}  "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    import importlib.metadata as md
    versions = {p: md.version(p) for p in ("mqt.bench", "qiskit", "qiskit-aer")}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"generator": "scripts/generate_mqt_bench.py", "level": "indep",
                   "basis": BASIS, "versions": versions,
                   "circuits": dict(sorted(manifest.items()))}, f, indent=1)
    print(f"wrote {len(manifest)} circuits to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
