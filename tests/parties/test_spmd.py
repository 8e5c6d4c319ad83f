"""Parties in two processes on localhost (jax.distributed, one party each): the same loss and
gradients as the single-process run, to 1e-12 in float64."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet.parties import figure2_protocol
from qtnet.parties.devices import nbytes

ROOT = Path(__file__).resolve().parents[2]
F64 = jnp.float64
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_two_processes_match_the_single_process_run():
    port = str(_free_port())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("XLA_FLAGS", None)
    script = str(ROOT / "tests" / "parties" / "two_process_check.py")
    procs = [subprocess.Popen([sys.executable, script, str(pid), port], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for pid in (0, 1)]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        outs.append(json.loads(out.strip().splitlines()[-1]))

    protocol = figure2_protocol(5, 2, depth=2, observable=[(0.5, "Z0 Z1"), (1.0, "X3")])
    params = protocol.init_params(jax.random.PRNGKey(0), 1.0, F64)
    x = jnp.asarray(np.random.default_rng(0).normal(size=32))
    value, grads = jax.value_and_grad(
        lambda p: protocol.run(p, {"x": x}, backend="dense", dtype=F64))(params)
    state = protocol.apply_step(0, None, params, {"x": x}, backend="dense", dtype=F64)
    for out in outs:
        assert out["devices"] == 2 and out["local"] == 1
        assert abs(out["value"] - float(value)) < 1e-12
        assert out["moved"] == {str(i): nbytes(state) for i in (1, 2, 3, 4)}
    assert set(outs[0]["grads"]) == {"A1", "A2"} and set(outs[1]["grads"]) == {"B1", "B2"}
    for out in outs:
        for key, g in out["grads"].items():
            np.testing.assert_allclose(g, grads[key], atol=1e-12)
