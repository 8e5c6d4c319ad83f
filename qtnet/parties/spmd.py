"""Parties as the devices of one SPMD program: one device per party, on one machine or across
processes started with ``jax.distributed.initialize`` (JAX's own runtime, no home-made RPC).

Every array the protocol touches carries a leading ``party`` axis sharded over a 1-d mesh,
slot p on party p's device. Party p's parameters and data are real only in slot p (the other
slots hold zeros and are never read), so they never leave their owner. Each step runs on
every device but takes effect only in its owner's slot (``lax.cond`` on the axis index); a
hand-off is a ``ppermute`` of the state from the sender's slot to the receiver's, the one
collective that moves data between parties. The readout is ``psum``-ed so every process sees
the value. ``jax.grad`` goes through all of it.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from qtnet.parties.devices import nbytes
from qtnet.parties.ownership import input_owners
from qtnet.parties.protocol import Protocol
from qtnet.tn import backends

AXIS = "party"


def party_mesh(protocol: Protocol, devices=None) -> Mesh:
    """A mesh with one device per party, in the protocol's party order."""
    devices = list(devices if devices is not None else jax.devices())
    k = len(protocol.parties)
    if len(devices) < k:
        raise ValueError(f"{k} parties need {k} devices; JAX sees {len(devices)}")
    return Mesh(np.asarray(devices[:k]), (AXIS,))


def owned_inputs(protocol: Protocol, params: dict, data: dict) -> dict[str, str]:
    """Which party owns each parameter and data entry (the steps that read it)."""
    return input_owners(protocol, [*params, *data])


def stack_by_owner(protocol: Protocol, values: dict, owner: dict[str, str], mesh: Mesh,
                   local_party: str | None = None) -> dict:
    """Global ``[K, ...]`` arrays sharded over parties: slot p holds the entry if party p owns
    it, zeros otherwise. In a multi-process run pass ``local_party``: this process supplies
    only its own slot (zeros for entries other parties own, which it does not have)."""
    names = list(protocol.party_names)
    sharding = NamedSharding(mesh, PartitionSpec(AXIS))
    out = {}
    for key, value in values.items():
        if key not in owner:
            continue
        value = jnp.asarray(value)
        slots = [value if owner[key] == name else jnp.zeros_like(value) for name in names]
        if local_party is None:
            out[key] = jax.device_put(jnp.stack(slots), sharding)
        else:
            mine = slots[names.index(local_party)][None]
            out[key] = jax.make_array_from_process_local_data(sharding, np.asarray(mine),
                                                              (len(names), *value.shape))
    return out


def _on_owner(is_owner, apply, state, is_readout: bool):
    """``apply(state)`` on the owner's slot; elsewhere the state stays (zeros: nothing yet)."""
    if state is None:                             # the Encode step creates the state
        shape = jax.eval_shape(lambda: apply(None))
        zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shape)
        return jax.lax.cond(is_owner, lambda: apply(None), lambda: zeros)
    if is_readout:                                # a value only on the owner; psum-ed after
        shape = jax.eval_shape(apply, state)
        return jax.lax.cond(is_owner, apply, lambda s: jnp.zeros(shape.shape, shape.dtype),
                            state)
    return jax.lax.cond(is_owner, apply, lambda s: s, state)


def spmd_runner(protocol: Protocol, mesh: Mesh, **kw):
    """``run(params_stacked, data_stacked) -> (value, handoff_bytes)``, jitted once.

    ``handoff_bytes`` maps each hand-off (index of the receiving step) to the bytes of the
    state the ``ppermute`` moved (filled when ``run`` is first traced).
    """
    forward, moved = spmd_forward(protocol, mesh, **kw)
    return jax.jit(forward), moved


def _step(protocol: Protocol, i: int, params: dict, data: dict, batched: bool, kw: dict):
    """Step ``i`` as a function of the state; ``batched``: vmapped over the data's leading
    axis (inside the owner's ``cond``, so non-owners compute nothing)."""
    if not batched:
        return functools.partial(protocol.apply_step, i, params=params, data=data, **kw)

    def one(state, d):
        return protocol.apply_step(i, state, params, d, **kw)

    if i == 0:
        return lambda _: jax.vmap(lambda d: one(None, d))(data)
    return lambda state: jax.vmap(one)(state, data)


def spmd_forward(protocol: Protocol, mesh: Mesh, *, with_fidelity: bool = False,
                 batched: bool = False, **kw):
    """:func:`spmd_runner` before ``jit``: a pure ``forward(params_stacked, data_stacked)``
    to use inside a larger traced function (differentiated). With ``with_fidelity`` it
    returns ``(value, fidelity)``, the fidelity estimate of the state the reading party
    measures; with ``batched`` every data entry has a batch axis after the party axis and
    the values have a leading batch axis."""
    names = list(protocol.party_names)
    moved: dict[int, int] = {}

    def body(params, data):
        me = jax.lax.axis_index(AXIS)
        p_local = jax.tree.map(lambda a: a[0], params)
        d_local = jax.tree.map(lambda a: a[0], data)
        state = None
        for i, step in enumerate(protocol.steps):
            owner = names.index(step.party)
            if i and protocol.steps[i - 1].party != step.party:
                sender = names.index(protocol.steps[i - 1].party)
                moved[i] = nbytes(state)          # trace time: shapes are static
                state = jax.lax.ppermute(state, AXIS, [(sender, owner)])
            apply = _step(protocol, i, p_local, d_local, batched, kw)
            last = i == len(protocol.steps) - 1
            if last:
                fid = backends.get(kw.get("backend", "mps")).fidelity
                fidelity = jnp.where(me == owner, jax.vmap(fid)(state) if batched
                                     else fid(state), 0)
            state = _on_owner(me == owner, apply, state, last)
        return jax.lax.psum(state, AXIS)[None], jax.lax.psum(fidelity, AXIS)[None]

    spec = PartitionSpec(AXIS)
    # check_vma=False: the cond branches mix per-party (varying) and constant values by design.
    mapped = jax.shard_map(body, mesh=mesh, in_specs=(spec, spec), out_specs=(spec, spec),
                           check_vma=False)

    def forward(params, data):
        value, fidelity = mapped(params, data)
        return (value[0], fidelity[0]) if with_fidelity else value[0]

    return forward, moved
