"""Dense reference implementations used by the tests (numpy, float64)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy.stats import unitary_group

PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
         "Z": np.diag([1.0, -1.0])}


def apply_dense(psi, gate, sites, n):
    """Apply ``gate`` on ``sites`` of a dense n-qubit vector (site 0 most significant)."""
    k = len(sites)
    t = np.asarray(psi).reshape((2,) * n)
    g = np.asarray(gate).reshape((2,) * (2 * k))
    t = np.tensordot(g, t, axes=(list(range(k, 2 * k)), list(sites)))
    return np.moveaxis(t, list(range(k)), list(sites)).reshape(-1)


def run_gates_dense(n, ops):
    """|0...0> after ``ops`` = [(gate, sites), ...] applied in order, as a dense vector."""
    psi = np.zeros(2**n, complex)
    psi[0] = 1
    for gate, sites in ops:
        psi = apply_dense(psi, gate, sites, n)
    return psi


def pauli_matrix(label: dict[int, str], n: int):
    m = np.eye(1)
    for q in range(n):
        m = np.kron(m, PAULI[label.get(q, "I")])
    return m


def cluster_ising_matrix(n: int, h1: float, h2: float):
    """The open cluster-Ising chain -sum Z X Z - h1 sum X - h2 sum X X as a dense matrix."""
    terms = [(-1.0, {i - 1: "Z", i: "X", i + 1: "Z"}) for i in range(1, n - 1)]
    terms += [(-h1, {i: "X"}) for i in range(n)]
    terms += [(-h2, {i: "X", i + 1: "X"}) for i in range(n - 1)]
    return sum(c * pauli_matrix(t, n) for c, t in terms)


def random_unitary(dim, rng):
    return unitary_group.rvs(dim, random_state=rng)


def random_state(n, rng):
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return psi / np.linalg.norm(psi)


def run_on_host_devices(script: str, devices: int = 4, timeout: int = 900) -> dict:
    """Run ``tests/<script>`` in a fresh interpreter that sees ``devices`` CPU host devices
    (JAX fixes its device count when it starts) and return the JSON of its last line."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
           "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, str(root / "tests" / script)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
