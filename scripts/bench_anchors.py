"""qtnet against quimb, TensorCircuit-NG and PennyLane on one brickwork benchmark.

The circuit (as in scripts/bench_circuit.py): layer l applies RY(theta[l, i]) to every qubit,
then CZ on the pairs (i, i+1), i = l mod 2, l mod 2 + 2, ...; the loss is <Z_{n/2}> on |0..0>
and each step computes its value and gradient with respect to every angle.

    bash scripts/setup_anchors.sh                 # the anchors' own venv: .venv-anchors/
    python scripts/bench_anchors.py               # the full grid, one invocation
    python scripts/bench_anchors.py --n 16 32 --depth 8 --chi 32 --tools qtnet-mps quimb-mps

Every (tool, n, D, chi) runs in a fresh process, so compile time, step time and peak memory
belong to that case alone. qtnet runs in this interpreter's environment, the anchors in
``--anchor-python``. A case that runs past ``--case-budget`` is reported "over budget"; once
a tool has spent ``--tool-budget`` seconds, or failed a smaller size of the same (D, chi), its
remaining sizes are reported "skipped" - the table shows every cell, never hides one.

Tools (``--tools``):
  qtnet-mps     qtnet.tn MPS, one jitted value_and_grad (lax.scan over layer pairs)
  qtnet-dense   qtnet.tn.dense statevector, jitted
  qtnet-tn      qtnet's tn backend: <0|U^dagger Z U|0> as one network, light-cone simplified,
                cotengra path found once, contracted with JAX; one jitted value_and_grad
                (an exact tool: it runs at the --dense-n sizes, e.g. --dense-n 20 100)
  quimb-mps     quimb CircuitMPS (cutoff 0, max_bond chi) traced under jax.jit
  tcng-mps      TensorCircuit-NG MPSCircuit, jax backend, K.jit(K.value_and_grad)
  tcng-dense    TensorCircuit-NG Circuit, jax backend, K.jit(K.value_and_grad)
  pennylane-mps PennyLane default.tensor (quimb MPS); parameter-shift gradients (the only
                differentiation it supports), no compilation
  pennylane-dense PennyLane default.qubit, jax interface, backprop under jax.jit (opt-in:
                its first call ran past 5 minutes at n = 16 on the benchmark machine)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MPS_TOOLS = ("qtnet-mps", "quimb-mps", "tcng-mps", "pennylane-mps")
DENSE_TOOLS = ("qtnet-dense", "qtnet-tn", "tcng-dense", "pennylane-dense")
QTNET_TOOLS = ("qtnet-mps", "qtnet-dense", "qtnet-tn")
GRAD_HEAD = 256          # gradient entries kept per row (layer-major: the first layers)
COMPILING = {"qtnet-mps", "qtnet-dense", "qtnet-tn", "quimb-mps", "tcng-mps", "tcng-dense",
             "pennylane-dense"}
EXACT_ANCHORS = {"tcng-dense", "pennylane-dense"}


def brickwork_bond_bound(n: int, depth: int) -> int:
    """Largest bond the untruncated brickwork state can need: 2 per CZ across a cut, and
    never more than the smaller side's Hilbert space. (qtnet.tn.brickwork_bond_bound says
    the same, but the driver must run without qtnet; a test checks the two agree.)"""
    best = 1
    for cut in range(1, n):                       # cut between sites cut-1 and cut
        gates = sum(1 for layer in range(depth) if (cut - 1) % 2 == layer % 2)
        best = max(best, min(2 ** gates, 2 ** min(cut, n - cut)))
    return best


def angles(n: int, depth: int, dtype: str):
    import numpy as np

    real = "float64" if dtype == "complex128" else "float32"
    return np.random.default_rng(0).uniform(0, 2 * np.pi, (depth, n)).astype(real)


# --------------------------------------------------------------------------------------
# One step function per tool: step(theta [D, n]) -> (value, grad [D, n]). Imports are local
# so that each tool's process loads only its own library.


def _qtnet_step(n, depth, chi, dtype, backend):
    import jax
    import jax.numpy as jnp

    sys.path.insert(0, HERE)
    from bench_circuit import brickwork_loss

    loss = brickwork_loss(n, depth, chi, jnp.dtype(dtype), backend)
    return jax.jit(jax.value_and_grad(loss))


def _qtnet_tn_step(n, depth, dtype):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from qtnet.tn import backends
    from qtnet.tn.gates import FIXED_2Q, ry

    net = backends.get("tn")
    dtype = jnp.dtype(dtype)
    pairs = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], dtype), (depth, n // 2, 4, 4))
    zero = np.tile([1.0, 0.0], (n, 1))

    def loss(theta):
        state = net.apply_brickwork(net.product_state(zero, dtype=dtype),
                                    ry(theta).astype(dtype), pairs)
        return net.expectation_pauli(state, f"Z{n // 2}")

    return jax.jit(jax.value_and_grad(loss))


def _quimb_step(n, depth, chi, dtype):
    import jax
    import jax.numpy as jnp
    import quimb as qu
    import quimb.tensor as qtn

    z = jnp.asarray(qu.pauli("Z"), dtype)

    def loss(theta):
        circ = qtn.CircuitMPS(n, max_bond=chi, cutoff=0.0, dtype=dtype, to_backend=jnp.asarray)
        for layer in range(depth):
            for i in range(n):
                circ.apply_gate("RY", theta[layer, i], i)
            for i in range(layer % 2, n - 1, 2):
                circ.apply_gate("CZ", i, i + 1)
        return jnp.real(circ.local_expectation(z, n // 2))

    return jax.jit(jax.value_and_grad(loss))


def _tcng_step(n, depth, chi, dtype, mps):
    import tensorcircuit as tc

    backend = tc.set_backend("jax")
    tc.set_dtype(dtype)

    def loss(theta):
        if mps:
            c = tc.MPSCircuit(n, split={"max_singular_values": chi})
        else:
            c = tc.Circuit(n)
        for layer in range(depth):
            for i in range(n):
                c.ry(i, theta=theta[layer, i])
            for i in range(layer % 2, n - 1, 2):
                c.cz(i, i + 1)
        return backend.real(c.expectation_ps(z=[n // 2]))

    return backend.jit(backend.value_and_grad(loss))


def _pennylane_circuit(qml, n, depth):
    def circuit(theta):
        for layer in range(depth):
            for i in range(n):
                qml.RY(theta[layer, i], wires=i)
            for i in range(layer % 2, n - 1, 2):
                qml.CZ(wires=[i, i + 1])
        return qml.expval(qml.PauliZ(n // 2))

    return circuit


def _pennylane_mps_step(n, depth, chi, dtype):
    import numpy as np
    import pennylane as qml

    dev = qml.device("default.tensor", wires=n, method="mps", max_bond_dim=chi, cutoff=0.0,
                     c_dtype=np.dtype(dtype).type)
    qnode = qml.QNode(_pennylane_circuit(qml, n, depth), dev, diff_method="parameter-shift")

    def step(theta):
        theta = qml.numpy.array(theta, requires_grad=True)
        return qnode(theta), qml.grad(qnode)(theta)

    return step


def _pennylane_dense_step(n, depth, dtype):
    import jax
    import pennylane as qml

    dev = qml.device("default.qubit", wires=n)
    qnode = qml.QNode(_pennylane_circuit(qml, n, depth), dev, interface="jax",
                      diff_method="backprop")
    return jax.jit(jax.value_and_grad(qnode))


def make_step(tool: str, n: int, depth: int, chi: int, dtype: str):
    if dtype == "complex128":
        import jax

        jax.config.update("jax_enable_x64", True)
    if tool == "qtnet-mps":
        return _qtnet_step(n, depth, chi, dtype, "mps")
    if tool == "qtnet-dense":
        return _qtnet_step(n, depth, chi, dtype, "dense")
    if tool == "qtnet-tn":
        return _qtnet_tn_step(n, depth, dtype)
    if tool == "quimb-mps":
        return _quimb_step(n, depth, chi, dtype)
    if tool == "tcng-mps":
        return _tcng_step(n, depth, chi, dtype, mps=True)
    if tool == "tcng-dense":
        return _tcng_step(n, depth, chi, dtype, mps=False)
    if tool == "pennylane-mps":
        return _pennylane_mps_step(n, depth, chi, dtype)
    if tool == "pennylane-dense":
        return _pennylane_dense_step(n, depth, dtype)
    raise ValueError(f"unknown tool {tool!r}; known: {', '.join(MPS_TOOLS + DENSE_TOOLS)}")


def _ready(x):
    """Block until x (any pytree of jax or numpy arrays) is computed; return it as numpy."""
    import numpy as np

    if hasattr(x, "block_until_ready"):
        x.block_until_ready()
    return np.asarray(x)


def run_case(tool: str, n: int, depth: int, chi: int, dtype: str, repeats: int) -> dict:
    """Time one case in this process: first call (compile + one step), then the median of
    ``repeats`` steps at nearby angles (so no result can be cached)."""
    import numpy as np

    theta = angles(n, depth, dtype)
    t0, c0 = time.perf_counter(), time.process_time()
    step = make_step(tool, n, depth, chi, dtype)
    value, grad = step(theta)
    value, grad = _ready(value), _ready(grad)
    compile_s, compile_cpu = time.perf_counter() - t0, time.process_time() - c0
    times, cpu = [], []
    for k in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        _ready(step(theta + np.asarray(1e-3 * (k + 1), theta.dtype))[1])
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    step_s, step_cpu = statistics.median(times), statistics.median(cpu)
    grad = np.asarray(grad, np.float64).reshape(depth, n)
    return {"tool": tool, "n": n, "depth": depth, "chi": chi, "dtype": dtype,
            "status": "ok", "first_call_s": compile_s, "step_s": step_s,
            # Compilation (and tracing) = the first call less one step.
            "compile_s": max(compile_s - step_s, 0.0),
            # Process CPU seconds: steadier than wall time on a shared machine.
            "step_cpu_s": step_cpu, "compile_cpu_s": max(compile_cpu - step_cpu, 0.0),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "value": float(np.real(value)), "grad": grad.ravel().tolist()}


# --------------------------------------------------------------------------------------
# The driver: one subprocess per case, budgets, agreement, ratios.


def _worker(tool, n, depth, chi, dtype, repeats, python, timeout) -> dict:
    cmd = [python, os.path.abspath(__file__), "--case", f"{tool},{n},{depth},{chi}",
           "--dtype", dtype, "--repeats", str(repeats)]
    env = dict(os.environ)
    if tool in QTNET_TOOLS:
        root = os.path.dirname(HERE)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    cell = {"tool": tool, "n": n, "depth": depth, "chi": chi, "dtype": dtype}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {**cell, "status": "over budget", "wall_s": timeout,
                "error": f"no result within {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        tail = [x for x in lines if "Error" in x][-1:] or lines[-1:] or ["(no output)"]
        return {**cell, "status": "failed", "wall_s": wall, "error": tail[0][:300]}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    # Keep the head of the gradient: enough to compare tools, small enough to store.
    grad = row.pop("grad")
    return {**row, "wall_s": wall, "grad": grad[:GRAD_HEAD],
            "grad_norm": math.sqrt(sum(g * g for g in grad))}


class Budget:
    """Seconds left per tool, and the (tool, D, chi) series that stopped at a smaller n."""

    def __init__(self, case_s: float, tool_s: float):
        self.case_s, self.tool_s = case_s, tool_s
        self.spent: dict[str, float] = {}
        self.stopped: dict[tuple, str] = {}

    def why_skip(self, tool, depth, chi) -> str | None:
        if (tool, depth, chi) in self.stopped:
            return self.stopped[(tool, depth, chi)]
        if self.spent.get(tool, 0.0) >= self.tool_s:
            return f"tool budget of {self.tool_s:.0f} s used up"
        return None

    def timeout(self, tool) -> float:
        return max(1.0, min(self.case_s, self.tool_s - self.spent.get(tool, 0.0)))

    def record(self, row):
        tool = row["tool"]
        self.spent[tool] = self.spent.get(tool, 0.0) + row.get("wall_s", 0.0)
        if row["status"] != "ok":
            self.stopped[(tool, row["depth"], row["chi"])] = (
                f"{row['status']} at n={row['n']}")


def run_grid(tools, sizes, depths, chis, args, budget: Budget, log) -> list[dict]:
    rows = []
    for depth in depths:
        for chi in chis:
            for n in sizes:
                for tool in tools:
                    reason = budget.why_skip(tool, depth, chi)
                    if reason:
                        row = {"tool": tool, "n": n, "depth": depth, "chi": chi,
                               "dtype": args.dtype, "status": "skipped", "error": reason}
                    else:
                        python = sys.executable if tool in QTNET_TOOLS else args.anchor_python
                        row = _worker(tool, n, depth, chi, args.dtype, args.repeats, python,
                                      budget.timeout(tool))
                        budget.record(row)
                    rows.append(row)
                    log(format_row(row))
    return rows


def summarise(result, tolerance: float) -> dict:
    """Fill in ``agreement`` and the ratios from the rows of ``result`` (in place)."""
    mps_rows, dense_rows = result["mps"], result["dense"]
    chis = sorted({r["chi"] for r in mps_rows})
    # Reference values for the small MPS cases come from the dense runs at the same n.
    agree = agreement(mps_rows + [dict(r, chi=c) for r in dense_rows
                                  if r["tool"] == "qtnet-dense" for c in chis], tolerance)
    result["tolerance"] = tolerance
    result["agreement"] = ([a for a in agree if a["tools"] > 1]
                           + agreement(dense_rows, tolerance))
    result["mps_ratios"] = ratios(mps_rows, "qtnet-mps", set(MPS_TOOLS) - {"qtnet-mps"})
    result["dense_ratios"] = ratios(dense_rows, "qtnet-dense", EXACT_ANCHORS)
    result["tn_ratios"] = ratios(dense_rows, "qtnet-tn", EXACT_ANCHORS)
    return result


def write_outputs(result, out: str, png: str | None) -> None:
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    tables = os.path.splitext(out)[0] + ".md"
    with open(tables, "w") as f:
        f.write(markdown(result))
    print(f"wrote {out} and {tables}")
    if png:
        plot(result, png)
        print(f"wrote {png}")


def _reusable_rows(paths, dtype, measured):
    """Rows of earlier result files for the cases this run did not measure (``measured``:
    the (tool, n, D, chi) keys it did). Per case a later file's row replaces an earlier one
    unless that loses a result ("ok"); so a re-run of one case with a larger budget can be
    merged into a full run."""
    chosen, sources = {}, []
    for path in paths:
        with open(path) as f:
            earlier = json.load(f)
        if earlier.get("dtype") != dtype:
            return f"{path} is {earlier.get('dtype')}, this run {dtype}"
        rows = [r for r in earlier["mps"] + earlier["dense"] if _key(r) not in measured]
        for row in rows:
            key = _key(row)
            if key not in chosen or row["status"] == "ok" or chosen[key]["status"] != "ok":
                chosen[key] = dict(row, reused=path)
        sources.append({"file": path, "tools": sorted({r["tool"] for r in rows}),
                        "machine": earlier.get("machine")})
    return list(chosen.values()), sources


def _key(row):
    return row["tool"], row["n"], row["depth"], row["chi"]


def format_row(row) -> str:
    head = f"{row['tool']:<16} n={row['n']:<5} D={row['depth']:<3} chi={row['chi']:<4}"
    if row["status"] != "ok":
        return f"{head} {row['status']}: {row.get('error', '')}"
    return (f"{head} compile {row['compile_s']:8.2f} s  step {row['step_s']:9.4f} s  "
            f"peak {row['peak_mb']:6.0f} MB  value {row['value']:+.7f}")


def agreement(rows, tolerance: float) -> list[dict]:
    """Per (n, D, chi): the tools' values, their spread, and for untruncated cases whether
    every tool is within ``tolerance`` of the reference (qtnet-dense where it ran, else the
    median); gradients are compared the same way (max abs difference)."""
    import numpy as np

    cases = {}
    for row in rows:
        if row["status"] == "ok":
            cases.setdefault((row["n"], row["depth"], row["chi"]), []).append(row)
    out = []
    for (n, depth, chi), group in sorted(cases.items()):
        exact = chi == 0 or brickwork_bond_bound(n, depth) <= chi      # chi 0: dense
        values = {r["tool"]: r["value"] for r in group}
        ref_row = next((r for r in group if r["tool"] == "qtnet-dense"), None)
        ref = ref_row["value"] if ref_row else float(np.median(list(values.values())))
        ref_grad = (np.asarray(ref_row["grad"]) if ref_row else
                    np.median([np.asarray(r["grad"]) for r in group], axis=0))
        # np.max, not max(): a NaN anywhere must show (Python's max may skip it).
        value_dev = float(np.max([abs(v - ref) for v in values.values()]))
        grad_dev = float(np.max([np.max(np.abs(np.asarray(r["grad"]) - ref_grad))
                                 for r in group]))
        entry = {"n": n, "depth": depth, "chi": chi, "exact": exact, "tools": len(group),
                 "values": values, "value_spread": max(values.values()) - min(values.values()),
                 "max_value_dev": value_dev, "max_grad_dev": grad_dev}
        if exact and len(group) > 1:
            entry["values_agree"] = bool(value_dev <= tolerance)
            entry["grads_agree"] = bool(grad_dev <= tolerance)      # NaN never agrees
            entry["agree"] = entry["values_agree"] and entry["grads_agree"]
            entry["grad_devs"] = {r["tool"]: float(np.max(np.abs(np.asarray(r["grad"])
                                                                 - ref_grad)))
                                  for r in group}
        out.append(entry)
    return out


def ratios(rows, ours: str, anchors) -> list[dict]:
    """qtnet's compile and step time over the best anchor's, per (n, D, chi) where both ran.
    Compile ratios use only anchors that compile (a tool with no compiler has no compile
    time to compare)."""
    by_case = {}
    for row in rows:
        if row["status"] == "ok":
            by_case.setdefault((row["n"], row["depth"], row["chi"]), {})[row["tool"]] = row
    out = []
    for key, tools in sorted(by_case.items()):
        if ours not in tools:
            continue
        others = {t: r for t, r in tools.items() if t in anchors}
        if not others:
            continue
        entry = {"n": key[0], "depth": key[1], "chi": key[2]}
        best_step = min(others, key=lambda t: others[t]["step_s"])
        entry.update(best_step=best_step,
                     step_ratio=tools[ours]["step_s"] / others[best_step]["step_s"])
        compiled = [t for t in others if t in COMPILING]
        if compiled:
            best_c = min(compiled, key=lambda t: others[t]["compile_s"])
            entry.update(best_compile=best_c,
                         compile_ratio=tools[ours]["compile_s"] / others[best_c]["compile_s"])
        out.append(entry)
    return out


# --------------------------------------------------------------------------------------
# Kernel rates at a large bond against this machine's dense matmul rate.


def _rate(fn, args, flops, repeats):
    import jax

    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {"seconds": best, "gflops": flops / best / 1e9}


def _svd_flops(m: int, n: int) -> float:
    """Real flops of a complex thin SVD with vectors: Golub & Van Loan's R-SVD count
    6 m n^2 + 20 n^3 (m >= n), times 4 for complex arithmetic."""
    m, n = max(m, n), min(m, n)
    return 4.0 * (6 * m * n * n + 20 * n ** 3)


def _eigh_flops(n: int) -> float:
    """Real flops of a complex Hermitian eigendecomposition with vectors: Golub & Van Loan's
    symmetric QR count 9 n^3, times 4 for complex arithmetic."""
    return 4.0 * 9 * n ** 3


def kernel_rates(chi: int, dtype: str, repeats: int) -> dict:
    """GFLOP/s of the engine's two large-bond kernels against a dense matmul, at bond ``chi``.

    Flops are counted as the work each kernel does (a complex multiply-add is 8 real flops;
    decompositions by their textbook counts, see ``_svd_flops`` / ``_eigh_flops``), so a
    kernel dominated by LAPACK decompositions is measured by how fast it does them.
      matmul           [m, m] @ [m, m], the best of m in (512, 1024, 2048)
      two_site_update  one brickwork layer's gate step: 4 pairs vmapped, bond chi
      mpo_mps          a bond-4 MPO applied to a bond-chi MPS of 4 sites, compressed to chi
                       (left sweep of SVDs on the [w chi] bond, right sweep truncating)
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    from qtnet.tn import evolve
    from qtnet.tn.algebra import apply_mpo
    from qtnet.tn.gates import FIXED_2Q
    from qtnet.tn.mpo import MPO
    from qtnet.tn.mps import random_mps

    if dtype == "complex128":
        jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    cdt = jnp.dtype(dtype)

    def crandn(*shape):
        return jnp.asarray(rng.standard_normal(shape) + 1j * rng.standard_normal(shape), cdt)

    out = {"chi": chi, "dtype": dtype, "convention": "8 real flops per complex MAC; "
           "SVD 4(6mn^2+20n^3), eigh 4(9n^3) (Golub & Van Loan)"}
    mm = {m: _rate(jax.jit(jnp.matmul), (crandn(m, m), crandn(m, m)), 8 * m ** 3, repeats)
          for m in (512, 1024, 2048)}
    best = max(mm, key=lambda m: mm[m]["gflops"])
    out["matmul"] = dict(mm[best], size=best, all={m: r["gflops"] for m, r in mm.items()})

    c, d, pairs = chi, 2, 4
    big = c * d
    b1, b2 = crandn(pairs, c, d, c), crandn(pairs, c, d, c)
    lam = jnp.ones((pairs, c), jnp.finfo(cdt).dtype) / np.sqrt(c)
    gate = jnp.broadcast_to(jnp.asarray(FIXED_2Q["CZ"], cdt), (pairs, 4, 4))
    update = jax.vmap(evolve.two_site_update, in_axes=(0, 0, 0, 0, None, None, None))
    fn = jax.jit(lambda lam, b1, b2: update(lam, b1, b2, gate, c, 0.0, c)[:3])
    per_pair = (8 * (c * d * c * d * c         # B1 B2
                     + (d * d) ** 2 * c * c    # the gate
                     + big ** 3                # Gram matrix theta^H theta
                     + big * big * c)          # (B1 B2 gate) V_k
                + _eigh_flops(big))
    out["two_site_update"] = _rate(fn, (lam, b1, b2), pairs * per_pair, repeats)

    n, w = 4, 4
    state = random_mps(jax.random.PRNGKey(0), n, chi, dtype=cdt)
    mpo = MPO(crandn(n, w, d, d, w))
    fn = jax.jit(lambda s: apply_mpo(mpo, s, max_bond=chi).tensors)
    cw = c * w
    per_site = (8 * w * w * d * d * c * c                      # MPO x MPS contraction
                + 8 * cw * cw * d * cw + _svd_flops(cw * d, cw)  # left sweep
                + 8 * cw * d * cw * c + _svd_flops(cw, d * c))   # right sweep
    out["mpo_mps"] = _rate(fn, (state,), n * per_site, repeats)

    # The decompositions alone, same shapes, straight from LAPACK: how much of each kernel's
    # time they take, and the rate of what is left (contractions and glue), which needs no
    # flop convention for the decompositions.
    herm = crandn(pairs, big, big)
    herm = herm + jnp.conj(jnp.swapaxes(herm, -1, -2))
    eig_s = _rate(jax.jit(jnp.linalg.eigh), (herm,), 1.0, repeats)["seconds"]
    left = crandn(cw * d, cw)
    right = crandn(cw, d * c)
    svd_s = n * sum(_rate(jax.jit(lambda a: jnp.linalg.svd(a, full_matrices=False)), (a,),
                          1.0, repeats)["seconds"] for a in (left, right))
    rest = {"two_site_update": (eig_s, pairs * (per_pair - _eigh_flops(big))),
            "mpo_mps": (svd_s, n * (per_site - _svd_flops(cw * d, cw) - _svd_flops(cw, d * c)))}
    for name, (decomp_s, rest_flops) in rest.items():
        k = out[name]
        k["fraction_of_matmul"] = k["gflops"] / out["matmul"]["gflops"]
        k["lapack_s"] = decomp_s
        k["lapack_share"] = decomp_s / k["seconds"]
        rest_s = max(k["seconds"] - decomp_s, 1e-9)
        k["rest_gflops"] = rest_flops / rest_s / 1e9
        k["rest_fraction_of_matmul"] = k["rest_gflops"] / out["matmul"]["gflops"]
    return out


# --------------------------------------------------------------------------------------


def machine(anchor_python: str | None) -> dict:
    sys.path.insert(0, HERE)
    from bench_circuit import cpu_model

    info = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()}
    info["versions"] = {"qtnet-env": _versions(sys.executable, ("jax", "jaxlib", "numpy"))}
    if anchor_python and os.path.exists(anchor_python):
        info["versions"]["anchor-env"] = _versions(
            anchor_python, ("jax", "jaxlib", "numpy", "quimb", "tensorcircuit-ng", "pennylane"))
    return info


def _versions(python, names) -> dict:
    code = ("import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for name in sys.argv[1:]:\n"
            "    try: out[name] = m.version(name)\n"
            "    except m.PackageNotFoundError: out[name] = None\n"
            "print(json.dumps(out))")
    proc = subprocess.run([python, "-c", code, *names], capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr[-200:]}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # pennylane-dense is opt-in: its jit compile alone ran past 5 min at n = 16 here.
    p.add_argument("--tools", nargs="+",
                   default=[t for t in MPS_TOOLS + DENSE_TOOLS if t != "pennylane-dense"])
    p.add_argument("--n", type=int, nargs="+", default=[16, 32, 64, 256, 1024])
    p.add_argument("--depth", type=int, nargs="+", default=[8, 20])
    p.add_argument("--chi", type=int, nargs="+", default=[32, 64])
    p.add_argument("--dense-n", type=int, nargs="+", default=[16, 20, 24])
    p.add_argument("--kernel-chi", type=int, default=256,
                   help="bond of the kernel-rate measurement (0 skips it)")
    p.add_argument("--dtype", default="complex64", choices=["complex64", "complex128"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tolerance", type=float, default=None,
                   help="agreement tolerance for untruncated cases "
                        "(default 1e-6 at complex128, 1e-4 at complex64)")
    p.add_argument("--case-budget", type=float, default=120.0, help="seconds per case")
    p.add_argument("--tool-budget", type=float, default=900.0, help="seconds per tool")
    p.add_argument("--anchor-python",
                   default=os.path.join(os.path.dirname(HERE), ".venv-anchors", "bin", "python"))
    p.add_argument("--out", default="bench_results/bench_anchors.json")
    p.add_argument("--plot", metavar="PNG", help="also write the step/compile-time plot")
    p.add_argument("--resummarise", metavar="JSON",
                   help="recompute agreement and ratios of a result file and write --out, "
                        "its tables and --plot; runs nothing")
    p.add_argument("--reuse", metavar="FILE", nargs="+",
                   help="add the cases this run did not measure from earlier results (e.g. "
                        "re-measure qtnet after a change without re-running the anchors); a "
                        "later file's result for a case replaces an earlier one")
    p.add_argument("--case", help=argparse.SUPPRESS)     # internal: one case, JSON on stdout
    p.add_argument("--kernels-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    unknown = set(args.tools) - set(MPS_TOOLS + DENSE_TOOLS)
    if unknown:
        p.error(f"unknown tools {sorted(unknown)}; known: {', '.join(MPS_TOOLS + DENSE_TOOLS)}")
    if args.tolerance is None:
        args.tolerance = 1e-6 if args.dtype == "complex128" else 1e-4
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.case:
        tool, n, depth, chi = args.case.split(",")
        print(json.dumps(run_case(tool, int(n), int(depth), int(chi), args.dtype,
                                  args.repeats)))
        return 0
    if args.resummarise:
        with open(args.resummarise) as f:
            result = summarise(json.load(f), args.tolerance)
        print_summary(result)
        write_outputs(result, args.out, args.plot)
        return 0
    if args.kernels_only:
        print(json.dumps(kernel_rates(args.kernel_chi, args.dtype, args.repeats)))
        return 0
    if any(t not in QTNET_TOOLS for t in args.tools) and not os.path.exists(args.anchor_python):
        print(f"no anchor environment at {args.anchor_python}: run scripts/setup_anchors.sh "
              "or pass --anchor-python (or --tools qtnet-mps qtnet-dense)", file=sys.stderr)
        return 2

    budget = Budget(args.case_budget, args.tool_budget)
    mps_tools = [t for t in args.tools if t in MPS_TOOLS]
    dense_tools = [t for t in args.tools if t in DENSE_TOOLS]
    print(f"dtype={args.dtype} repeats={args.repeats} case budget {args.case_budget:.0f} s, "
          f"tool budget {args.tool_budget:.0f} s", flush=True)
    mps_rows = run_grid(mps_tools, args.n, args.depth, args.chi, args, budget,
                        lambda s: print(s, flush=True))
    # Dense cases have no bond cap; chi is recorded as 0.
    dense_rows = run_grid(dense_tools, args.dense_n, args.depth, [0], args, budget,
                          lambda s: print(s, flush=True))
    reused_from = []
    if args.reuse:
        earlier = _reusable_rows(args.reuse, args.dtype,
                                 {_key(r) for r in mps_rows + dense_rows})
        if isinstance(earlier, str):
            print(f"--reuse: {earlier}", file=sys.stderr)
            return 2
        rows, reused_from = earlier
        mps_rows += [r for r in rows if r["tool"] in MPS_TOOLS]
        dense_rows += [r for r in rows if r["tool"] in DENSE_TOOLS]
    result = {"machine": machine(args.anchor_python), "dtype": args.dtype,
              "budgets": {"case_s": args.case_budget, "tool_s": args.tool_budget},
              "reused": reused_from, "tool_seconds": budget.spent,
              "mps": mps_rows, "dense": dense_rows}
    summarise(result, args.tolerance)
    if args.kernel_chi:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--kernels-only",
                               "--kernel-chi", str(args.kernel_chi), "--dtype", args.dtype],
                              capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=os.path.dirname(HERE)))
        result["kernels"] = (json.loads(proc.stdout.strip().splitlines()[-1])
                             if proc.returncode == 0 else {"error": proc.stderr[-300:]})
    print_summary(result)
    write_outputs(result, args.out, args.plot)
    return 0


def plot(result, path: str) -> None:
    """Compile and step seconds against n, one line per (tool, chi), one row per depth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in result["mps"] + result["dense"] if r["status"] == "ok"]
    depths = sorted({r["depth"] for r in rows})
    if not depths:
        return
    fig, axes = plt.subplots(len(depths), 2, figsize=(11, 3.8 * len(depths)), squeeze=False)
    tools = sorted({r["tool"] for r in rows})
    colours = dict(zip(tools, plt.cm.tab10.colors))
    styles = {32: "-", 64: "--", 0: ":"}
    for axrow, depth in zip(axes, depths):
        for tool in tools:
            for chi in sorted({r["chi"] for r in rows}):
                series = sorted((r for r in rows if r["tool"] == tool and r["depth"] == depth
                                 and r["chi"] == chi), key=lambda r: r["n"])
                if not series:
                    continue
                label = f"{tool}" + (f" chi={chi}" if chi else "")
                ns = [r["n"] for r in series]
                for ax, key in zip(axrow, ("compile_s", "step_s")):
                    if key == "compile_s" and tool not in COMPILING:
                        continue                  # nothing compiled: no compile time
                    ax.plot(ns, [max(r[key], 1e-3) for r in series], styles.get(chi, "-."),
                            marker="o", color=colours[tool], label=label)
        for ax, what in zip(axrow, ("compile (first call less one step)", "step (value+grad)")):
            ax.set(xscale="log", yscale="log", xlabel="qubits n", ylabel="seconds",
                   title=f"{what}, D={depth}")
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 1].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"brickwork value+grad, {result['dtype']}, {result['machine']['cpu']}, "
                 f"{result['machine']['cores']} cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(result) -> str:
    """Tables for BENCHMARKS.md: one cell per (case, tool), 'compile s / step s / peak MB'
    or why it has no figure, then qtnet's ratios to the best anchor."""
    out = []
    for key, ratio_keys in (("mps", ("mps_ratios",)), ("dense", ("dense_ratios", "tn_ratios"))):
        rows = result[key]
        if not rows:
            continue
        tools = [t for t in (MPS_TOOLS if key == "mps" else DENSE_TOOLS)
                 if any(r["tool"] == t for r in rows)]
        # Ratio columns where a qtnet tool and an anchor both ran (older files: no tn_ratios).
        ratio_keys = [k for k in ratio_keys if result.get(k)]
        ratios_of = {k: {(r["n"], r["depth"], r["chi"]): r for r in result.get(k, [])}
                     for k in ratio_keys}
        cells = {(r["n"], r["depth"], r["chi"], r["tool"]): r for r in rows}
        cases = sorted({(r["depth"], r["chi"], r["n"]) for r in rows})
        heads = "".join(f" {k.split('_')[0]} compile ratio | {k.split('_')[0]} step ratio |"
                        for k in ratio_keys)
        out.append(f"| n | D | χ | {' | '.join(tools)} |{heads}")
        out.append("|---:|---:|---:|" + "---|" * len(tools) + "---:|---:|" * len(ratio_keys))
        for depth, chi, n in cases:
            line = [str(n), str(depth), str(chi) if chi else "–"]
            for tool in tools:
                r = cells.get((n, depth, chi, tool))
                if r is None:
                    line.append("")
                elif r["status"] == "ok":
                    comp = f"{r['compile_s']:.1f}" if tool in COMPILING else "–"
                    line.append(f"{comp} / {r['step_s']:.4g} / {r['peak_mb']:.0f}")
                else:
                    line.append(r["status"])
            for k in ratio_keys:
                q = ratios_of[k].get((n, depth, chi), {})
                line.append(f"{q['compile_ratio']:.3f}" if "compile_ratio" in q else "")
                line.append(f"{q['step_ratio']:.3f}" if "step_ratio" in q else "")
            out.append("| " + " | ".join(line) + " |")
        out.append("")
    return "\n".join(out)


def print_summary(result):
    print("\nagreement (untruncated: every tool within tolerance of the reference)")
    for a in result["agreement"]:
        verdict = "truncated"
        if "agree" in a:
            verdict = (f"values {'agree' if a['values_agree'] else 'DISAGREE'}, gradients "
                       f"{'agree' if a['grads_agree'] else 'DISAGREE'}")
        print(f"  n={a['n']:<5} D={a['depth']:<3} chi={a['chi']:<4} {a['tools']} tools  "
              f"value dev {a['max_value_dev']:.2e} (spread {a['value_spread']:.2e})  "
              f"grad dev {a['max_grad_dev']:.2e}  {verdict}")
        if "grad_devs" in a:
            print("      gradient deviation per tool: " + ", ".join(
                f"{t} {g:.1e}" for t, g in sorted(a["grad_devs"].items())))
    for name in ("mps_ratios", "dense_ratios", "tn_ratios"):
        print(f"\n{name}: qtnet / best anchor")
        for r in result.get(name, []):
            comp = (f"compile {r['compile_ratio']:6.3f} ({r['best_compile']})"
                    if "compile_ratio" in r else "compile    n/a")
            print(f"  n={r['n']:<5} D={r['depth']:<3} chi={r['chi']:<4} {comp}  "
                  f"step {r['step_ratio']:6.3f} ({r['best_step']})")
    kern = result.get("kernels")
    if kern and "matmul" in kern:
        base = kern["matmul"]["gflops"]
        print(f"\nkernels at chi={kern['chi']}: matmul {base:.1f} GFLOP/s")
        for name in ("two_site_update", "mpo_mps"):
            if name in kern:
                k = kern[name]
                print(f"  {name:<16} {k['gflops']:7.1f} GFLOP/s = {k['gflops'] / base:.0%} of "
                      f"matmul; LAPACK {k.get('lapack_share', 0):.0%} of its time, the rest at "
                      f"{k.get('rest_fraction_of_matmul', 0):.0%} of matmul")


if __name__ == "__main__":
    sys.exit(main())
