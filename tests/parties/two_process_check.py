"""One party of a two-process run (tests/parties/test_spmd.py): ``python two_process_check.py
PROCESS_ID PORT``. Each process owns one party's parameters (and Alice the data), supplies only
those, and prints the value and its own parameters' gradients as JSON."""

import json
import sys

import jax

pid, port = int(sys.argv[1]), sys.argv[2]
jax.config.update("jax_enable_x64", True)
jax.distributed.initialize(coordinator_address=f"localhost:{port}", num_processes=2,
                           process_id=pid)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from qtnet.parties import figure2_protocol  # noqa: E402
from qtnet.parties.spmd import (owned_inputs, party_mesh, spmd_runner,  # noqa: E402
                                stack_by_owner)

F64 = jnp.float64
p = figure2_protocol(5, 2, depth=2, observable=[(0.5, "Z0 Z1"), (1.0, "X3")])
params = p.init_params(jax.random.PRNGKey(0), 1.0, F64)
x = jnp.asarray(np.random.default_rng(0).normal(size=32))
me = ["alice", "bob"][pid]
mesh = party_mesh(p)
owner = owned_inputs(p, params, {"x": x})
mine = {k: v for k, v in params.items() if owner[k] == me}
others = {k: jnp.zeros_like(v) for k, v in params.items() if owner[k] != me}
sp = stack_by_owner(p, {**mine, **others}, owner, mesh, local_party=me)
sd = stack_by_owner(p, {"x": x if me == "alice" else jnp.zeros_like(x)}, owner, mesh,
                    local_party=me)
run, moved = spmd_runner(p, mesh, backend="dense", dtype=F64)
v = run(sp, sd)
g = jax.grad(lambda q: run(q, sd))(sp)
out = {"pid": pid, "devices": len(jax.devices()), "local": len(jax.local_devices()),
       "value": float(np.asarray(v.addressable_data(0))), "moved": moved,
       "grads": {k: np.asarray(g[k].addressable_data(0))[0].tolist() for k in mine}}
print(json.dumps(out))
