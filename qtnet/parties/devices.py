"""Parties on JAX devices: each party's parameters live on its device, its steps run there, and
a hand-off is a real device transfer whose bytes are counted for the meter.

On one CPU, several host devices come from ``XLA_FLAGS=--xla_force_host_platform_device_count=N``
(set before JAX starts). Batches of samples are sharded over devices with ``jax.sharding``.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from qtnet.parties.ownership import input_owners, step_inputs
from qtnet.parties.protocol import Protocol


@dataclasses.dataclass
class DeviceRun:
    value: jax.Array
    sim_bytes: dict[int, int]        # hand-off (index of the receiving step) -> bytes moved


def party_devices(protocol: Protocol) -> dict[str, jax.Device]:
    """Each party's device (the first device for a party that names none)."""
    default = jax.devices()[0]
    return {p.name: p.device or default for p in protocol.parties}


def place_params(protocol: Protocol, params: dict) -> dict:
    """Commit every parameter array to the device of the party whose step uses it."""
    devices = party_devices(protocol)
    owner = input_owners(protocol, params_only=True)
    return {k: jax.device_put(v, devices[owner[k]]) if k in owner else v
            for k, v in params.items()}


def nbytes(tree) -> int:
    """Bytes of the arrays in a pytree (from shapes and dtypes; works on tracers)."""
    return int(sum(np.prod(x.shape, dtype=np.int64) * np.dtype(x.dtype).itemsize
                   for x in jax.tree.leaves(tree)))


_STEP_FNS: dict = {}


def _step_fn(protocol: Protocol, i: int, options: tuple):
    key = (id(protocol), i, options)
    if key not in _STEP_FNS:
        kw = dict(options)
        _STEP_FNS[key] = (protocol, jax.jit(
            lambda state, p, d: protocol.apply_step(i, state, p, d, **kw)))
    return _STEP_FNS[key][1]


def run_on_devices(protocol: Protocol, params: dict, data: dict, *, backend="mps",
                   max_bond: int | None = None, cutoff: float = 0.0, dtype=None) -> DeviceRun:
    """Run step by step, each on its owner's device; move the state at every hand-off.

    Differentiable (``jax.grad`` of ``.value``); equals :meth:`Protocol.run`. Only the state
    moves: each step receives its own party's parameters and data, placed on its device.
    """
    devices = party_devices(protocol)
    options = (("backend", backend), ("max_bond", max_bond), ("cutoff", cutoff),
               ("dtype", dtype))
    moved: dict[int, int] = {}
    state = None
    for i, step in enumerate(protocol.steps):
        device = devices[step.party]
        if i and protocol.steps[i - 1].party != step.party:
            if devices[protocol.steps[i - 1].party] != device:
                moved[i] = nbytes(state)
            state = jax.device_put(state, device)
        p_keys, d_keys = step_inputs(step)
        local_params = {k: jax.device_put(params[k], device) for k in p_keys if k in params}
        local_data = {k: jax.device_put(data[k], device) for k in d_keys if k in data
                      and not isinstance(data[k], str)}
        state = _step_fn(protocol, i, options)(state, local_params, local_data)
    return DeviceRun(state, moved)


def data_mesh(devices=None, axis: str = "data") -> Mesh:
    """A 1-d mesh over ``devices`` (default: all) for data parallelism."""
    return Mesh(np.asarray(devices or jax.devices()), (axis,))


def shard_batch(batch, mesh: Mesh, axis: str = "data"):
    """Shard the leading (batch) axis of every array over the mesh's devices."""
    size = mesh.shape[axis]
    for leaf in jax.tree.leaves(batch):
        if leaf.shape[0] % size:
            raise ValueError(f"batch of {leaf.shape[0]} does not split over {size} devices")
    sharding = NamedSharding(mesh, PartitionSpec(axis))
    return jax.device_put(batch, sharding)


_BATCH_FNS: dict = {}


def run_batch(protocol: Protocol, params: dict, batch: dict, mesh: Mesh | None = None,
              **kw) -> jax.Array:
    """``protocol.run`` for every sample of ``batch`` (a dict of arrays with a leading batch
    axis), vmapped and, with ``mesh``, sharded over its devices (parameters replicated)."""
    key = (id(protocol), tuple(sorted(kw.items())))
    if key not in _BATCH_FNS:
        run = jax.vmap(lambda p, d: protocol.run(p, d, **kw), in_axes=(None, 0))
        _BATCH_FNS[key] = (protocol, jax.jit(run))
    fn = _BATCH_FNS[key][1]
    return fn(params, batch if mesh is None else shard_batch(batch, mesh))
