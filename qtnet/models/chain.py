"""Split learning as a classifier: the K-party chain protocol, each party's layers on its own
device, trained end to end.

Party 0 amplitude-encodes x; in each of R rounds every party p applies its own brickwork
unitary U_{p,r} and hands the state to the next; the last party measures the class register
(as the Figure 2 classifier does). The model is :func:`qtnet.parties.chain_protocol`; its
angles are one array ``[K, R, ...]`` whose slot p is party p's. With several JAX devices the
slots are sharded over a party mesh (slot p on device p) and the forward pass is one SPMD
program (:mod:`qtnet.parties.spmd`): each step runs on its owner's device, a hand-off is a
``ppermute`` of the state, and the gradient flows back through the same hand-offs. On one
device (or ``model.placement: one``) the same protocol runs in one piece.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from qtnet.config import BackendConfig, ConfigError, field
from qtnet.models.figure2 import register_size
from qtnet.models.registry import register_model
from qtnet.parties.library import chain_protocol
from qtnet.parties.protocol import Protocol
from qtnet.parties.spmd import AXIS, party_mesh, spmd_forward
from qtnet.tn import backends
from qtnet.tn.ansatz import ANSATZE, ansatz_param_shape, check_ansatz
from qtnet.models.common import check_ansatz_dtype, check_backend_in

PLACEMENTS = ("auto", "devices", "one")


class ChainClassifier(nnx.Module):
    """K-party chain circuit classifier (split learning).

    Args:
      n_features: length of a data vector (zero-padded to ``2**n_qubits``).
      n_classes: classes, read from the first ``ceil(log2 n_classes)`` qubits.
      parties: K, the parties in the chain.
      rounds: R, passes of the state along the chain.
      depth: brickwork layers in each party's unitary.
      placement: ``devices`` puts party p on ``jax.devices()[p]`` (needs K devices); ``one``
        runs the chain in one piece; ``auto`` is ``devices`` when JAX sees K devices.
    """

    def __init__(self, n_features: int, n_classes: int, *, parties: int, rounds: int,
                 depth: int, ansatz: str = "ry_cz", backend: str = "mps",
                 max_bond: int | None = None, cutoff: float = 0.0, dtype="float32",
                 init_scale: float = 0.1, placement: str = "auto", rngs: nnx.Rngs):
        check_ansatz(ansatz)
        backends.get(backend)
        if n_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
        self.n_features, self.n_classes = n_features, n_classes
        self.n_qubits = register_size(n_features, n_classes)
        self.class_qubits = max(1, math.ceil(math.log2(n_classes)))
        self.party_names = tuple(f"p{k}" for k in range(parties))
        self.rounds, self.depth, self.ansatz = rounds, depth, ansatz
        self.backend, self.cutoff, self.dtype = backend, cutoff, jnp.dtype(dtype)
        self.max_bond = max_bond or 2 ** (self.n_qubits // 2)
        real = jnp.finfo(self.dtype).dtype
        shape = (parties, rounds, *ansatz_param_shape(ansatz, depth, self.n_qubits))
        self.angles = nnx.Param(init_scale * jax.random.normal(rngs.params(), shape, real))
        spread = placement == "devices" or (placement == "auto"
                                            and len(jax.devices()) >= parties)
        self.mesh = party_mesh(self.protocol()) if spread else None

    def protocol(self) -> Protocol:
        """The chain as a protocol: what the forward pass runs and the meter counts."""
        return chain_protocol(self.party_names, self.n_qubits, rounds=self.rounds,
                              depth=self.depth, ansatz=self.ansatz,
                              class_qubits=self.class_qubits)

    def protocol_params(self) -> dict:
        """``{"<party><round>": angles}``: party p's unitary of round r is ``angles[p, r-1]``."""
        angles = self.angles[...]
        return {f"{name}{r + 1}": angles[p, r] for p, name in enumerate(self.party_names)
                for r in range(self.rounds)}

    def run_options(self) -> dict:
        return dict(backend=self.backend, max_bond=self.max_bond, cutoff=self.cutoff,
                    dtype=self.dtype)

    def param_shardings(self, params) -> object | None:
        """Where the trainer puts ``params``: the angles sharded over the party mesh (slot p
        on party p's device); ``None`` on one device."""
        if self.mesh is None:
            return None
        return jax.tree.map(lambda _: NamedSharding(self.mesh, PartitionSpec(AXIS)), params)

    def _one_piece(self, x):
        protocol, kw, params = self.protocol(), self.run_options(), self.protocol_params()

        def sample(v):
            state = None
            for i in range(len(protocol.steps) - 1):
                state = protocol.apply_step(i, state, params, {"x": v}, **kw)
            probs = protocol.apply_step(len(protocol.steps) - 1, state, params, {}, **kw)
            return probs, backends.get(self.backend).fidelity(state)

        return jax.vmap(sample)(x)

    def _on_devices(self, x, moved: dict | None = None):
        """The SPMD forward pass; ``moved`` (when given) receives the bytes of each hand-off
        (the receiving step's index -> bytes), known once the pass is traced."""
        protocol, k = self.protocol(), len(self.party_names)
        angles = self.angles[...]
        mine = (jnp.arange(k) == 0)[:, None]              # slot p: party p's inputs only
        params = {}
        for p, name in enumerate(self.party_names):
            owner = (jnp.arange(k) == p).reshape((k,) + (1,) * (angles.ndim - 2))
            for r in range(self.rounds):
                params[f"{name}{r + 1}"] = jnp.where(owner, angles[:, r], 0)
        data = {"x": jnp.where(mine[..., None], x[None], 0)}       # [K, batch, features]
        forward, handoffs = spmd_forward(protocol, self.mesh, with_fidelity=True,
                                         batched=True, **self.run_options())
        out = forward(params, data)
        if moved is not None:
            moved.update(handoffs)
        return out

    def handoff_bytes(self, batch: int) -> dict[int, int]:
        """Bytes each device hand-off moves in one forward pass over ``batch`` samples (the
        receiving step's index -> bytes; the backward pass sends as many back); empty when
        the chain runs in one piece. Read from a trace (``jax.eval_shape``), nothing runs."""
        if self.mesh is None:
            return {}
        moved: dict[int, int] = {}
        jax.eval_shape(lambda x: self._on_devices(x, moved),
                       jax.ShapeDtypeStruct((batch, self.n_features), self.dtype))
        return moved

    def __call__(self, x, key=None) -> dict:
        """``x [batch, n_features]`` -> ``{"logits": [batch, C], "fidelity": [batch]}``."""
        x = x.astype(self.dtype)
        probs, fidelity = (self._one_piece if self.mesh is None else self._on_devices)(x)
        probs = probs[:, : self.n_classes]
        probs = probs / jnp.sum(probs, axis=-1, keepdims=True)
        tiny = np.finfo(np.dtype(probs.dtype)).tiny
        return {"logits": jnp.log(jnp.maximum(probs, tiny)), "fidelity": fidelity}


@dataclasses.dataclass(frozen=True)
class ChainConfig:
    """``model`` section of the split-learning chain (``model.type: chain``); it runs on
    ``backend`` (type, max_bond, cutoff, dtype)."""

    type: str = field("chain", help="model name")
    parties: int = field(4, min=2, max=8, help="K: parties in the chain")
    rounds: int = field(1, min=1, max=64, help="R: passes of the state along the chain")
    depth: int = field(2, min=1, max=64, help="brickwork layers in each party's unitary")
    ansatz: str = field("ry_cz", choices=ANSATZE, help="ry_cz (real) or su4 (complex)")
    init_scale: float = field(0.1, min=0.0, help="std of the initial angles")
    placement: str = field("auto", choices=PLACEMENTS,
                           help="devices: party p on device p; one: in one piece; auto: "
                                "devices when JAX sees enough")

    def validate_backend(self, backend: BackendConfig) -> None:
        """The party protocol is metered on mps or dense; su4 gates need a complex dtype."""
        check_backend_in("chain", backend, ("mps", "dense"))
        check_ansatz_dtype(self.ansatz, backend)


@register_model("chain", ChainConfig)
def build_chain(config: ChainConfig, *, sample_shape: tuple[int, ...], n_classes: int,
                backend: BackendConfig, rngs: nnx.Rngs) -> ChainClassifier:
    """The chain classifier; ``placement: devices`` needs one JAX device per party."""
    if config.placement == "devices" and len(jax.devices()) < config.parties:
        raise ConfigError(f"model.placement: devices puts each of the {config.parties} "
                          f"parties on its own device, but JAX sees {len(jax.devices())}; "
                          f"start with XLA_FLAGS=--xla_force_host_platform_device_count="
                          f"{config.parties} or set model.placement: one")
    return ChainClassifier(sample_shape[-1], n_classes, parties=config.parties,
                           rounds=config.rounds, depth=config.depth, ansatz=config.ansatz,
                           backend=backend.type, max_bond=backend.max_bond,
                           cutoff=backend.cutoff, dtype=backend.dtype,
                           init_scale=config.init_scale, placement=config.placement,
                           rngs=rngs)
