"""Run with XLA_FLAGS=--xla_force_host_platform_device_count=4 (tests/parties/test_devices.py):
parties on their own devices and sharded batches equal the single-device run (float64)."""

import json
import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from qtnet.comm import Estimator, meter  # noqa: E402
from qtnet.parties import (chain_protocol, data_mesh, figure2_protocol,  # noqa: E402
                           place_params, run_batch, run_on_devices)
from qtnet.parties.devices import nbytes  # noqa: E402

F64 = jnp.float64


def main():
    devices = jax.devices()
    assert len(devices) == 4, devices
    out = {}
    protocol = figure2_protocol(5, 2, depth=2, observable=[(0.5, "Z0 Z1"), (1.0, "X3")],
                                devices=(devices[0], devices[1]))
    raw = protocol.init_params(jax.random.PRNGKey(0), 1.0, F64)      # on the default device
    params = place_params(protocol, raw)
    assert params["A1"].devices() == {devices[0]} and params["B2"].devices() == {devices[1]}
    x = jnp.asarray(np.random.default_rng(0).normal(size=32))
    single = protocol.run(raw, {"x": x}, backend="dense", dtype=F64)
    run = run_on_devices(protocol, params, {"x": x}, backend="dense", dtype=F64)
    out["value_diff"] = float(abs(run.value - single))
    state = protocol.apply_step(0, None, raw, {"x": x}, backend="dense", dtype=F64)
    out["bytes"] = run.sim_bytes
    out["state_bytes"] = nbytes(state)
    grad_single = jax.grad(lambda p: protocol.run(p, {"x": x}, backend="dense", dtype=F64))(raw)
    grad_dev = jax.grad(lambda p: run_on_devices(protocol, p, {"x": x}, backend="dense",
                                                 dtype=F64).value)(params)
    out["grad_diff"] = max(float(jnp.max(jnp.abs(grad_single[k] - grad_dev[k])))
                           for k in params)
    report = meter(protocol, Estimator(0.1, 0.05), sim_bytes=run.sim_bytes)
    out["report_sim_bytes"] = report.totals()["sim_bytes"]

    chain = chain_protocol(["p0", "p1", "p2", "p3"], 4, devices=devices)
    craw = chain.init_params(jax.random.PRNGKey(1), 1.0, F64)
    crun = run_on_devices(chain, place_params(chain, craw), {"x": jnp.arange(1.0, 17.0)},
                          backend="dense", dtype=F64)
    out["chain_diff"] = float(abs(crun.value - chain.run(
        craw, {"x": jnp.arange(1.0, 17.0)}, backend="dense", dtype=F64)))
    out["chain_bytes"] = crun.sim_bytes

    xs = jnp.asarray(np.random.default_rng(1).normal(size=(8, 32)))
    plain = run_batch(protocol, raw, {"x": xs}, backend="dense", dtype=F64)
    sharded = run_batch(protocol, raw, {"x": xs}, data_mesh(), backend="dense", dtype=F64)
    out["batch_diff"] = float(jnp.max(jnp.abs(plain - sharded)))
    out["batch_devices"] = len(sharded.devices())
    # The same protocol as one SPMD program over a party mesh (ppermute hand-offs).
    from qtnet.parties.spmd import owned_inputs, party_mesh, spmd_runner, stack_by_owner

    mesh = party_mesh(protocol, devices[2:])
    owner = owned_inputs(protocol, params, {"x": x})
    run_spmd, moved = spmd_runner(protocol, mesh, backend="dense", dtype=F64)
    sp = stack_by_owner(protocol, raw, owner, mesh)
    sd = stack_by_owner(protocol, {"x": x}, owner, mesh)
    out["spmd_value_diff"] = float(abs(run_spmd(sp, sd) - single))
    g = jax.grad(lambda q: run_spmd(q, sd))(sp)
    names = list(protocol.party_names)
    out["spmd_grad_diff"] = max(float(jnp.max(jnp.abs(g[k][names.index(owner[k])]
                                                      - grad_single[k]))) for k in raw)
    out["spmd_bytes"] = moved
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
