"""The deep polynomial SIGN circuit as a trainable model (``model.type: deep_sign``): Alice's
hop state Φ = Σ_k |k> T^k|X> on ``node | hop | feat`` (fixed, handed over by the dataset),
Bob's L polynomial layers — tensor-train (MPO-core) weights on ``hop ⊗ feat``,
c0·1 + c1·φ + c2·(φ ⊙ φ) — then W_out onto the class register; a batch's logits are the
amplitudes <v, c|ψ> of its sampled nodes v (:mod:`qtnet.gnn.deep`).

The whole circuit runs every step on the configured backend (``backend.type: mps | dense``,
``backend.max_bond``, ``backend.cutoff``), so gradients flow through every MPO application,
Hadamard product and compression; the reported ``fidelity`` is the product of the kept weight
of every compression behind the logits (Alice's included).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from qtnet.comm.deep_ledger import deep_sign_handoff, deep_sign_ledger, itemsize_of
from qtnet.config import BackendConfig, ConfigError, field
from qtnet.gnn.deep import amplitudes_at, forward_state, init_params
from qtnet.models.common import FixedState, check_backend_in
from qtnet.models.registry import register_model
from qtnet.tn import backends
from qtnet.tn.dense import MAX_DENSE_SITES



class DeepSign(nnx.Module):
    """``x [batch, node_qubits]`` (node bit strings, most significant first) -> logits.

    Args:
      state: Alice's hop state, an MPS on ``node | hop | feat`` (amplitudes of O(1) per node).
      node_qubits: width of the node register (the samples' bit strings).
      n_classes: classes, read from basis states 0..C-1 of the ``hop | feat`` register.
      layers: L, polynomial layers (degree 2^L).
      weight_bond: bond of the MPO cores of W_l and W_out.
      backend: ``mps`` or ``dense``; ``max_bond`` / ``cutoff`` bound every compression.
      init_scale: spread of the cores around the identity.
    """

    def __init__(self, state, node_qubits: int, n_classes: int, *, layers: int,
                 weight_bond: int = 4, backend: str = "mps", max_bond: int | None = None,
                 cutoff: float = 0.0, init_scale: float = 0.5, rngs: nnx.Rngs):
        check_circuit(state.n_sites, node_qubits, n_classes, layers, weight_bond, max_bond)
        self.backend = backends.get(backend).name
        self.state = FixedState(state)
        self.node_qubits, self.n_classes = node_qubits, n_classes
        self.max_bond, self.cutoff = max_bond, cutoff
        p = init_params(rngs.params(), layers, state.n_sites - node_qubits, bond=weight_bond,
                        scale=init_scale, dtype=state.dtype)
        self.w, self.w_out, self.coef = nnx.Param(p["w"]), nnx.Param(p["w_out"]), nnx.Param(
            p["coef"])
        self.b_out = nnx.Param(jnp.zeros((n_classes,), jnp.finfo(state.dtype).dtype))

    def params(self) -> dict:
        return {"w": self.w[...], "w_out": self.w_out[...], "coef": self.coef[...]}

    def output_state(self):
        """``W_out ψ_L`` on the backend: the whole circuit, independent of the batch."""
        return forward_state(self.params(), self.state.value, max_bond=self.max_bond,
                             backend=self.backend, cutoff=self.cutoff)

    def read(self, out, bits) -> jax.Array:
        """``[B, C]`` logits of nodes ``bits [B, node_qubits]`` from an output state."""
        return amplitudes_at(out, bits, self.n_classes, backend=self.backend) + self.b_out[...]

    def ledger(self, batch: int, bits: int = 32) -> tuple[list, dict]:
        """The forward pass's contractions over ``batch`` nodes, per party, and the hand-off
        of Φ (:mod:`qtnet.comm.deep_ledger`; priced on the MPS backend at ``max_bond``)."""
        complex_, itemsize = itemsize_of(self.state.value.dtype)
        n = self.state.value.n_sites
        records = deep_sign_ledger(n_sites=n, layers=self.w.shape[0],
                                   weight_bond=self.w.shape[2], max_bond=self.max_bond,
                                   batch=batch, n_classes=self.n_classes, complex_=complex_,
                                   itemsize=itemsize)
        return records, deep_sign_handoff(n_sites=n, layers=self.w.shape[0],
                                          max_bond=self.max_bond, bits=bits)

    def __call__(self, x, key=None) -> dict:
        """Logits and the fidelity estimate of the circuit (deterministic: ``key`` unused)."""
        out = self.output_state()
        logits = self.read(out, x)
        fidelity = backends.get(self.backend).fidelity(out)
        return {"logits": logits, "fidelity": jnp.broadcast_to(fidelity, x.shape[:1])}


def check_circuit(n_sites: int, node_qubits: int, n_classes: int, layers: int,
                  weight_bond: int, max_bond: int | None) -> None:
    """A clear ConfigError for a circuit that cannot be built."""
    if layers < 1:
        raise ConfigError(f"model.layers: expected at least 1 polynomial layer, got {layers}")
    if weight_bond < 1:
        raise ConfigError(f"model.weight_bond: expected a bond >= 1, got {weight_bond}")
    if max_bond is not None and max_bond < 1:
        raise ConfigError(f"backend.max_bond: expected a bond >= 1, got {max_bond}")
    rest = n_sites - node_qubits
    if node_qubits < 1 or rest < 1:
        raise ConfigError(f"the data's state has {n_sites} sites: it leaves no hop/feature "
                          f"register after a {node_qubits}-qubit node register")
    if n_classes > 2**rest:
        raise ConfigError(f"{n_classes} classes do not fit the {rest}-qubit hop/feature "
                          f"register (at most {2**rest})")


@dataclasses.dataclass(frozen=True)
class DeepSignConfig:
    """``model`` section of the deep polynomial SIGN circuit (``model.type: deep_sign``); it
    runs on ``backend`` (type, max_bond, cutoff) and needs a dataset that hands it a hop
    state (``data.type: grid_deep``)."""

    type: str = field("deep_sign", help="model name")
    layers: int = field(3, min=1, max=8, help="L polynomial layers (degree 2^L)")
    weight_bond: int = field(4, min=1, max=64, help="bond of the MPO cores of W_l and W_out")
    init_scale: float = field(0.5, min=0.0, help="spread of the cores around the identity")

    def validate_backend(self, backend: BackendConfig) -> None:
        """The circuit runs on mps or dense and compresses every operation to
        ``backend.max_bond``: it must be set (a backend that never truncates ignores it)."""
        check_backend_in("deep_sign", backend, ("mps", "dense"))
        if backend.max_bond is None:
            raise ConfigError("backend.max_bond: model.type deep_sign compresses every "
                              "operation to a bond cap; set one (e.g. 16)")


@register_model("deep_sign", DeepSignConfig)
def build_deep_sign(config: DeepSignConfig, *, sample_shape: tuple[int, ...], n_classes: int,
                    backend: BackendConfig, rngs: nnx.Rngs, data=None) -> DeepSign:
    """The circuit on the dataset's hop state (``data.state``); samples are node bits."""
    state = getattr(data, "state", None)
    if state is None:
        raise ConfigError("model.type: deep_sign runs on the data's hop state; use a dataset "
                          "that provides one (data.type: grid_deep)")
    if len(sample_shape) != 1:
        raise ConfigError(f"model.type: deep_sign needs node bit strings [node_qubits] as "
                          f"samples; the data's samples have shape {tuple(sample_shape)}")
    if (backends.get(backend.type).state_type is not type(state)
            and state.n_sites > MAX_DENSE_SITES):
        raise ConfigError(f"backend.type: {backend.type} holds the data's state as a "
                          f"statevector, for deep_sign up to {MAX_DENSE_SITES} qubits; the "
                          f"data's state has {state.n_sites} (use a tensor-network backend)")
    return DeepSign(state, sample_shape[0], n_classes, layers=config.layers,
                    weight_bond=config.weight_bond, backend=backend.type,
                    max_bond=backend.max_bond, cutoff=backend.cutoff,
                    init_scale=config.init_scale, rngs=rngs)
