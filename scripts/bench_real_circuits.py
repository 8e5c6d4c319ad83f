"""qtnet against quimb's CircuitMPS on whole OpenQASM circuits: MQT Bench, QFT, GHZ, random,
Grover.

Two sources of circuits. ``--suite mqt``: the MQT Bench files in ``benchmarks/mqt_bench``
(written by ``scripts/generate_mqt_bench.py`` in the anchors' environment, with each
circuit's exact <Z_0> from qiskit-aer). Or specs generated here as OpenQASM 2.0 text:
``qft`` (H and controlled phases), ``ghz``, ``random`` (layers of random U3 gates and CNOTs
between random pairs), ``grover`` (multi-controlled phases written out as CNOT-parity
ladders and U1 gates). Every (tool, circuit) runs in a fresh process with one BLAS thread
(``--blas-threads``; on this shared 2-core machine a threaded 128x128 SVD was 25x slower):
wall time covers parsing, compiling and running, with one observable (``Z0``), in complex128.
qtnet runs as ``qtnet simulate`` does, with the persistent compilation cache, emptied at the
start of the run (``--keep-cache`` keeps it), so the first circuit of each shape compiles.
qtnet also reports the same run repeated on the same program (rerun).

    python scripts/bench_real_circuits.py --suite mqt                 # MQT Bench, 3 tools
    python scripts/bench_real_circuits.py                             # the generated suite
    python scripts/bench_real_circuits.py --circuits grover:8:4 random:10:400 --tools qtnet-mps
    python scripts/bench_real_circuits.py --plot docs/bench_real_circuits.png   # from --out
    python scripts/bench_real_circuits.py --markdown \
        --out benchmarks/results/bench_real_circuits_mqt.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

TOOLS = ("qtnet-mps", "qtnet-dense", "quimb-mps")
MQT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks",
                       "mqt_bench")
DEFAULT_CIRCUITS = ("ghz:12", "qft:8", "qft:12", "random:8:100", "random:8:1000",
                    "random:8:4000", "random:12:600", "grover:8:1", "grover:8:4", "grover:10:2")


# ---------------------------------------------------------------------------- circuits
def _header(n):
    return ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];"]


def ghz(n: int) -> str:
    return "\n".join(_header(n) + ["h q[0];"] + [f"cx q[{q}],q[{q + 1}];"
                                                  for q in range(n - 1)]) + "\n"


def qft(n: int) -> str:
    lines = _header(n) + [f"x q[{q}];" for q in range(0, n, 3)]    # a nontrivial input
    for j in range(n):
        lines.append(f"h q[{j}];")
        for k in range(j + 1, n):
            lines.append(f"cu1(pi/{2 ** (k - j)}) q[{k}],q[{j}];")
    return "\n".join(lines) + "\n"


def random_circuit(n: int, n_gates: int, seed: int = 0) -> str:
    import numpy as np

    rng = np.random.default_rng(seed)
    lines = _header(n)
    for _ in range(n_gates):
        if rng.uniform() < 0.5:
            t, p, lam = rng.uniform(0, 2 * math.pi, 3)
            lines.append(f"u3({t:.12f},{p:.12f},{lam:.12f}) q[{rng.integers(n)}];")
        else:
            a, b = rng.choice(n, 2, replace=False)
            lines.append(f"cx q[{a}],q[{b}];")
    return "\n".join(lines) + "\n"


def _mcphase(lines, lam, qubits):
    """exp(i lam) on |1...1> of ``qubits``: x_1...x_m = 2^(1-m) sum_S (-1)^(|S|+1) parity_S,
    one U1 per nonempty subset S (Gray-code order), its parity gathered by a CNOT ladder."""
    m = len(qubits)
    angle = lam / 2 ** (m - 1)
    for i in range(1, 2 ** m):
        g = i ^ (i >> 1)
        bits = [qubits[k] for k in range(m) if g >> k & 1]
        sign = 1 if len(bits) % 2 else -1
        ladder = [f"cx q[{k}],q[{bits[-1]}];" for k in bits[:-1]]
        lines += ladder + [f"u1({sign * angle:.17g}) q[{bits[-1]}];"] + ladder[::-1]


def grover(n: int, iterations: int) -> str:
    marked = [q % 3 == 0 for q in range(n)]
    lines = _header(n) + [f"h q[{q}];" for q in range(n)]
    flip = [f"x q[{q}];" for q in range(n) if not marked[q]]
    for _ in range(iterations):
        lines += flip
        _mcphase(lines, math.pi, list(range(n)))
        lines += flip
        lines += [g for q in range(n) for g in (f"h q[{q}];", f"x q[{q}];")]
        _mcphase(lines, math.pi, list(range(n)))
        lines += [g for q in range(n) for g in (f"x q[{q}];", f"h q[{q}];")]
    return "\n".join(lines) + "\n"


GENERATORS = {"ghz": ghz, "qft": qft, "random": random_circuit, "grover": grover}


def mqt_manifest() -> dict:
    with open(os.path.join(MQT_DIR, "manifest.json")) as f:
        return json.load(f)["circuits"]


def circuit_text(spec: str) -> str:
    """``name:n[:size]`` -> OpenQASM text (size: gates for random, iterations for grover);
    ``mqt:<file>`` -> that MQT Bench file."""
    name, *args = spec.split(":")
    if name == "mqt":
        with open(os.path.join(MQT_DIR, args[0])) as f:
            return f.read()
    if name not in GENERATORS:
        raise SystemExit(f"unknown circuit {name!r}; choose from {', '.join(GENERATORS)}")
    return GENERATORS[name](*map(int, args))


# ---------------------------------------------------------------------------- one case
def run_case(tool: str, spec: str) -> dict:
    text = circuit_text(spec)
    if tool.startswith("qtnet"):
        import jax

        jax.config.update("jax_enable_x64", True)
        from qtnet import compilation_cache
        from qtnet.circuits import from_qasm

        compilation_cache.enable()                  # as `qtnet simulate` does

        t0 = time.perf_counter()
        circuit = from_qasm(text)
        parsed = time.perf_counter()
        prog = circuit.program()
        compiled = time.perf_counter()
        result = circuit.simulate("Z0", backend=tool.split("-")[1])
        total = time.perf_counter() - t0
        circuit._states.clear()                     # same program again: no XLA compile
        again = circuit.simulate("Z0", backend=tool.split("-")[1])
        return {"value": result.value, "seconds": total, "parse_s": parsed - t0,
                "program_s": compiled - parsed, "rerun_s": again.seconds,
                "gates": len(circuit), "program_gates": int(len(prog.sites)),
                "bond": result.max_bond_used, "bond_cap": result.bond_cap,
                "fidelity": result.fidelity_estimate, "n": circuit.n_qubits}
    if tool == "quimb-mps":
        import numpy as np
        import quimb as qu
        import quimb.tensor as qtn

        t0 = time.perf_counter()
        circ = qtn.CircuitMPS.from_openqasm2_str(text)
        value = float(np.real(circ.local_expectation(qu.pauli("Z"), 0)))
        total = time.perf_counter() - t0
        return {"value": value, "seconds": total, "gates": len(circ.gates),
                "bond": int(circ.psi.max_bond()), "n": circ.N}
    raise SystemExit(f"unknown tool {tool!r}; choose from {', '.join(TOOLS)}")


def exact_values(specs) -> dict:
    """The suite's exact <Z_0> per spec (MQT Bench files: qiskit-aer's statevector)."""
    if not any(spec.startswith("mqt:") for spec in specs):
        return {}
    manifest = mqt_manifest()
    return {spec: manifest[spec[4:]]["exact_z0"] for spec in specs if spec.startswith("mqt:")}


def run_isolated(tool: str, spec: str, budget: float, env: dict) -> dict:
    try:
        proc = subprocess.run([sys.executable, __file__, "--case", tool, spec], env=env,
                              capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired:
        return {"status": f"over the {budget:.0f} s budget"}
    if proc.returncode == 0:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    return {"status": "failed", "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", nargs="+", default=list(DEFAULT_CIRCUITS),
                        help="name:n[:gates or iterations], names: " + ", ".join(GENERATORS)
                        + "; or mqt:<file in benchmarks/mqt_bench>")
    parser.add_argument("--suite", choices=["mqt"], help="every MQT Bench file, by gate count")
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--blas-threads", default="1")
    parser.add_argument("--dense-max-qubits", type=int, default=20,
                        help="qtnet-dense runs up to this many qubits (2^24 amplitudes = 256 MB)")
    parser.add_argument("--cache-dir", default="bench_results/jax_cache")
    parser.add_argument("--keep-cache", action="store_true")
    parser.add_argument("--out", default="bench_results/bench_real_circuits.json")
    parser.add_argument("--plot", help="write this PNG from --out's results and stop")
    parser.add_argument("--markdown", action="store_true",
                        help="print --out's results as BENCHMARKS.md's table and stop")
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)   # internal: tool spec
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(*args.case)))
        return 0
    if args.plot:
        return plot(args.out, args.plot)
    if args.markdown:
        return markdown(args.out)
    specs = args.circuits
    if args.suite == "mqt":
        manifest = mqt_manifest()
        specs = [f"mqt:{f}" for f in sorted(manifest, key=lambda f: (manifest[f]["gates"], f))]
    exact = exact_values(specs)
    qubits = {spec: (mqt_manifest()[spec[4:]]["qubits"] if spec.startswith("mqt:")
                     else int(spec.split(":")[1])) for spec in specs}
    if not args.keep_cache:
        shutil.rmtree(args.cache_dir, ignore_errors=True)
    env = dict(os.environ, QTNET_COMPILATION_CACHE=os.path.abspath(args.cache_dir))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = args.blas_threads

    rows = []
    print(f"{'circuit':<36} {'tool':<12} {'n':>3} {'gates':>6} {'wall s':>8} {'rerun s':>8} "
          f"{'bond':>5} {'/quimb':>7}")
    for spec in specs:
        reference = exact.get(spec)
        quimb_s = None
        for tool in sorted(args.tools, key=lambda t: t != "quimb-mps"):    # quimb first
            if tool == "qtnet-dense" and qubits[spec] > args.dense_max_qubits:
                continue
            row = run_isolated(tool, spec, args.budget, env)
            row.update(circuit=spec, tool=tool)
            rows.append(row)
            if "value" not in row:
                print(f"{spec:<36} {tool:<12} {row['status']}: {row.get('error', '')}",
                      flush=True)
                continue
            if tool == "qtnet-dense" and reference is None:
                reference = row["value"]
            if tool == "quimb-mps":
                quimb_s = row["seconds"]
            elif quimb_s:
                row["ratio_to_quimb"] = row["seconds"] / quimb_s
            print(f"{spec:<36} {tool:<12} {row['n']:>3} {row['gates']:>6} "
                  f"{row['seconds']:>8.2f} {row.get('rerun_s', float('nan')):>8.2f} "
                  f"{row['bond']!s:>5} {row.get('ratio_to_quimb', float('nan')):>7.2f}",
                  flush=True)
        for row in rows:
            if row["circuit"] == spec and "value" in row and reference is not None:
                row["error_vs_exact"] = abs(row["value"] - reference)
                print(f"{'':<36} {row['tool']:<12} |value - exact| = "
                      f"{row['error_vs_exact']:.1e}")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"cpu_count": os.cpu_count(), "blas_threads": args.blas_threads,
                   "load_average": os.getloadavg(), "results": rows}, f, indent=1)
    print(f"wrote {args.out}")
    return 0


def markdown(results: str) -> int:
    """One row per circuit: quimb's wall, qtnet-mps's (rerun) and their ratio (bold above
    1/2), qtnet-dense's, bonds and errors against the exact value."""
    with open(results) as f:
        rows = json.load(f)["results"]
    by = {(r["circuit"], r["tool"]): r for r in rows}
    circuits = list(dict.fromkeys(r["circuit"] for r in rows))
    print("| circuit | n | gates | quimb-mps s | qtnet-mps s (rerun) | ratio | "
          "qtnet-dense s (rerun) | bond qtnet / quimb | error qtnet-mps / quimb |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")

    def wall(r):
        if r is None:
            return "–"
        if "seconds" not in r:
            return r.get("status", "failed")
        rerun = f" ({r['rerun_s']:.2f})" if "rerun_s" in r else ""
        return f"{r['seconds']:.2f}{rerun}"

    for c in circuits:
        q, m, d = (by.get((c, t)) for t in ("quimb-mps", "qtnet-mps", "qtnet-dense"))
        known = next(r for r in (m, q, d) if r is not None and "n" in r)
        ratio = m.get("ratio_to_quimb") if m else None
        ratio = "qtnet only" if ratio is None else (f"**{ratio:.2f}**" if ratio > 0.5
                                                    else f"{ratio:.2f}")
        bond = " / ".join(str(r["bond"]) if r and "bond" in r else "–" for r in (m, q))
        err = " / ".join(f"{r['error_vs_exact']:.0e}" if r and "error_vs_exact" in r else "–"
                         for r in (m, q))
        print(f"| {c.removeprefix('mqt:').removesuffix('.qasm')} | {known['n']} | "
              f"{known['gates']} | {wall(q)} | {wall(m)} | {ratio} | {wall(d)} | {bond} | "
              f"{err} |")
    return 0


def plot(results: str, png: str) -> int:
    """Wall time against gates, one series per tool (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(results) as f:
        rows = [r for r in json.load(f)["results"] if "seconds" in r]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for tool, marker in zip(TOOLS, "osd"):
        pts = sorted((r["gates"], r["seconds"]) for r in rows if r["tool"] == tool)
        if pts:
            ax.scatter(*zip(*pts), label=tool, marker=marker, s=22, alpha=0.8)
    gates = sorted({r["gates"] for r in rows})
    if gates:
        ax.plot(gates, [2 + 1e-3 * g for g in gates], "k--", lw=1, label="2 s + 1 ms/gate")
    ax.set(xscale="log", yscale="log", xlabel="gates in the OpenQASM file",
           ylabel="wall s (parse + compile + run + <Z0>)")
    ax.set_title("MQT Bench circuits, one fresh process each (loaded 2-core machine)",
                 fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(png) or ".", exist_ok=True)
    fig.savefig(png, dpi=120)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
