"""Run with XLA_FLAGS=--xla_force_host_platform_device_count=4 (tests/tn/test_sharded.py): a
brickwork value, gradient and final state on an MPS split over 4 devices against one device.

Prints one JSON line. Each case compiles the one-device and the split run separately."""

import json

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from qtnet.tn import apply_brickwork, expectation_pauli, product_state, sharded  # noqa: E402
from qtnet.tn.ansatz import brickwork_gates  # noqa: E402

N, DEPTH, CHI = 16, 4, 4
# Terms on a shard boundary (sites 3-4: the odd layer's straddling pair) and inside shards.
OBSERVABLE = [(1.0, "Z8"), (0.5, "X3 X4"), (0.3, "Y11 Z12"), (0.2, "Z15")]


def compare(dtype, ansatz, max_bond, mesh):
    real = jnp.finfo(dtype).dtype
    shape = (DEPTH, N) if ansatz == "ry_cz" else (DEPTH, N // 2, 15)
    theta = jnp.asarray(np.random.default_rng(7).uniform(0, 2 * np.pi, shape), real)
    start = product_state(np.tile([1.0, 0.0], (N, 1)), max_bond=CHI, dtype=dtype)
    split = sharded.shard_mps(start, mesh)

    def one_device(t, state):
        single, pairs = brickwork_gates(t, ansatz, N)
        state = apply_brickwork(state, single.astype(dtype), pairs.astype(dtype),
                                max_bond=max_bond)
        return expectation_pauli(state, OBSERVABLE), state

    def four_devices(t, state):
        single, pairs = brickwork_gates(t, ansatz, N)
        state = sharded.apply_brickwork(state, single.astype(dtype), pairs.astype(dtype), mesh,
                                        max_bond=max_bond)
        return sharded.expectation_pauli(state, OBSERVABLE, mesh), state

    # Two programs, the one-device one on its own device: one jit holding both, on sharded
    # inputs, has hung (BENCHMARKS.md, "One MPS across 4 host devices").
    (v1, s1), g1 = jax.jit(jax.value_and_grad(one_device, has_aux=True))(theta, start)
    (v2, s2), g2 = jax.jit(jax.value_and_grad(four_devices, has_aux=True))(theta, split)
    return {"value": float(v1), "value_diff": float(abs(v1 - v2)),
            "grad_norm": float(jnp.linalg.norm(g1)),
            "grad_diff": float(jnp.max(jnp.abs(g1 - g2))),
            "state_diff": max(float(jnp.max(jnp.abs(getattr(s1, f) - getattr(s2, f))))
                              for f in ("tensors", "schmidt", "ranks")),
            "log_fidelity": float(s1.log_fidelity),
            "log_fidelity_diff": float(abs(s1.log_fidelity - s2.log_fidelity)),
            "tensor_sharding": str(s2.tensors.sharding.spec)}


def main():
    mesh = sharded.site_mesh()
    assert mesh.shape[sharded.SITES] == 4, mesh
    # float64 with the bond cap binding (the circuit needs 4), float32 untruncated.
    out = {"float64": compare(jnp.float64, "ry_cz", 2, mesh),
           "float32": compare(jnp.float32, "ry_cz", None, mesh)}
    start = sharded.shard_mps(product_state(np.tile([1.0, 0.0], (N, 1)), max_bond=CHI,
                                            dtype=jnp.float64), mesh)
    held = sharded.bytes_per_device(start.tensors)
    out["tensor_bytes"] = sorted(held.values())
    out["tensor_bytes_total"] = int(start.tensors.nbytes)
    try:
        sharded.shard_mps(product_state(np.tile([1.0, 0.0], (12, 1))), mesh)
        out["uneven_error"] = ""
    except ValueError as err:
        out["uneven_error"] = str(err)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
