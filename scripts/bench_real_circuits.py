"""qtnet against quimb's CircuitMPS on whole OpenQASM circuits: QFT, GHZ, random, Grover.

The circuits are generated here as OpenQASM 2.0 text (nothing is downloaded): ``qft`` (H and
controlled phases, no final swaps), ``ghz`` (H then a CNOT chain), ``random`` (layers of
random U3 gates and CNOTs between random pairs), ``grover`` (the multi-controlled phases
written out as CNOT-parity ladders and U1 gates: thousands of gates, little entanglement).
Every (tool, circuit) runs in a fresh process: wall time covers parsing, compiling and
running, with one observable (``Z0``), in complex128. qtnet also reports the same run
repeated on the same program (the compiled XLA program reused), so the difference is
the compile time.

    python scripts/bench_real_circuits.py                          # the default suite
    python scripts/bench_real_circuits.py --circuits grover:8:4 random:10:400 --tools qtnet-mps
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

TOOLS = ("qtnet-mps", "qtnet-dense", "quimb-mps")
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


def circuit_text(spec: str) -> str:
    """``name:n[:size]`` -> OpenQASM text (size: gates for random, iterations for grover)."""
    name, *args = spec.split(":")
    if name not in GENERATORS:
        raise SystemExit(f"unknown circuit {name!r}; choose from {', '.join(GENERATORS)}")
    return GENERATORS[name](*map(int, args))


# ---------------------------------------------------------------------------- one case
def run_case(tool: str, spec: str) -> dict:
    text = circuit_text(spec)
    if tool.startswith("qtnet"):
        import jax

        jax.config.update("jax_enable_x64", True)
        from qtnet.circuits import from_qasm

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", nargs="+", default=list(DEFAULT_CIRCUITS),
                        help="name:n[:gates or iterations], names: " + ", ".join(GENERATORS))
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per case")
    parser.add_argument("--out", default="bench_results/bench_real_circuits.json")
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)   # internal: tool spec
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(*args.case)))
        return 0

    rows = []
    print(f"{'circuit':<16} {'tool':<12} {'gates':>6} {'prog':>6} {'wall s':>8} {'rerun s':>8} "
          f"{'bond':>5} {'|value - exact|':>16}")
    for spec in args.circuits:
        exact = None
        for tool in args.tools:
            try:
                proc = subprocess.run([sys.executable, __file__, "--case", tool, spec],
                                      capture_output=True, text=True, timeout=args.budget)
                row = (json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0
                       else {"status": "failed", "error": (proc.stderr.strip().splitlines()
                                                            or ["?"])[-1]})
            except subprocess.TimeoutExpired:
                row = {"status": f"over the {args.budget:.0f} s budget"}
            row.update(circuit=spec, tool=tool)
            rows.append(row)
            if "value" not in row:
                print(f"{spec:<16} {tool:<12} {row['status']}: {row.get('error', '')}")
                continue
            if tool == "qtnet-dense":
                exact = row["value"]
            err = "" if exact is None else f"{abs(row['value'] - exact):.1e}"
            print(f"{spec:<16} {tool:<12} {row['gates']:>6} {row.get('program_gates', ''):>6} "
                  f"{row['seconds']:>8.2f} {row.get('rerun_s', float('nan')):>8.2f} "
                  f"{row['bond']!s:>5} {err:>16}", flush=True)
        for row in rows:
            if row["circuit"] == spec and "value" in row and exact is not None:
                row["error_vs_dense"] = abs(row["value"] - exact)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"cpu_count": os.cpu_count(), "results": rows}, f, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
