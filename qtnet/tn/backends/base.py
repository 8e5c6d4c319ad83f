"""The backend protocol: the operations code above the engine asks a network type for."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax

from qtnet.tn.mpo import MPO
from qtnet.tn.program import GateProgram
from qtnet.tn.shapes import (BrickworkPairs, BrickworkSingles, GateSequence, GateSites,
                             LocalVectors, Probabilities, RealScalar, Samples, Scalar,
                             SingleSiteLayer, StateVector, VectorLike)

State = Any
"""A backend's state pytree (:class:`qtnet.tn.MPS`, :class:`qtnet.tn.dense.DenseState`, ...).

Every state has ``n_sites``, ``phys_dim``, ``dtype``, ``log_norm``, ``fidelity_estimate``,
``bond_cap`` and ``max_bond_used()``."""


@runtime_checkable
class Backend(Protocol):
    """One kind of network (a frozen, hashable object, usable as a static jit argument).

    ``max_bond`` and ``cutoff`` bound the truncation of operations that may grow bonds; a
    backend that never truncates (``dense``) accepts and ignores them. Operations are pure.
    """

    name: str
    state_type: type

    # -- states ----------------------------------------------------------------------------
    def check_sites(self, n_sites: int) -> None:
        """Refuse (``ValueError``) more sites than this backend can hold, before building."""

    def encode(self, vector: VectorLike, *, max_bond: int | None = None,
               cutoff: float = 0.0, dtype=None) -> State:
        """The state of a dense vector (its norm goes to ``log_norm``)."""

    def product_state(self, vectors: LocalVectors | str, *, max_bond: int = 1,
                      dtype=None) -> State:
        """A product state (``"0+1"`` labels allowed) with bond cap ``max_bond``."""

    def zero_state_for(self, program: GateProgram, n_qubits: int, *,
                       max_bond: int | None = None, dtype=None) -> State:
        """|0...0> with room for every bond ``program`` can grow (``max_bond`` caps it)."""

    def astype(self, state: State, dtype) -> State:
        """The same state in another dtype (e.g. complex for a complex rotation)."""

    # -- gates -----------------------------------------------------------------------------
    def apply_single_site_layer(self, state: State, gates: SingleSiteLayer) -> State:
        """One gate per site."""

    def apply_brickwork(self, state: State, single: BrickworkSingles,
                        pairs: BrickworkPairs, *,
                        max_bond: int | None = None, cutoff: float = 0.0) -> State:
        """Layer l: ``single[l]`` on every site, then ``pairs[l]`` from site ``l mod 2``."""

    def apply_two_site_sequence(self, state: State, sites: GateSites,
                                gates: GateSequence, *,
                                max_bond: int | None = None, cutoff: float = 0.0) -> State:
        """``gates[k]`` on sites ``(sites[k], sites[k] + 1)`` in order."""

    def apply_program(self, state: State, program: GateProgram, *,
                      max_bond: int | None = None, cutoff: float = 0.0) -> State:
        """A compiled gate list (:func:`qtnet.tn.compile_program`). ``max_bond`` (default: the
        state's bond cap) may exceed the state's cap: a concrete program on the MPS grows the
        arrays to what the state needs, up to ``max_bond``."""

    # -- operators and algebra -------------------------------------------------------------
    def apply_mpo(self, mpo: MPO, state: State, *, max_bond: int | None = None,
                  cutoff: float = 0.0) -> State:
        """``O |psi>``."""

    def hadamard(self, a: State, b: State, *, max_bond: int | None = None,
                 cutoff: float = 0.0) -> State:
        """Elementwise product ``a ⊙ b``."""

    def add(self, a: State, b: State, *, max_bond: int | None = None,
            cutoff: float = 0.0) -> State:
        """``|a> + |b>``."""

    def scale(self, state: State, factor) -> State:
        """``factor |psi>``."""

    def compress(self, state: State, *, max_bond: int, cutoff: float = 0.0) -> State:
        """The state truncated to ``max_bond`` / ``cutoff`` (the loss goes to its fidelity)."""

    # -- read-outs -------------------------------------------------------------------------
    def overlap(self, bra: State, ket: State) -> Scalar:
        """<bra|ket>, norms included."""

    def norm(self, state: State) -> RealScalar:
        """||psi||."""

    def expectation_pauli(self, state: State, observable) -> RealScalar:
        """<O> / <psi|psi> of a Pauli string or a list of (coefficient, string) pairs."""

    def expectation_mpo(self, state: State, mpo: MPO) -> Scalar:
        """<psi|O|psi> / <psi|psi>."""

    def marginal_probabilities(self, state: State, n_first: int) -> Probabilities:
        """Born probabilities of the first ``n_first`` sites (site 0 most significant)."""

    def amplitudes(self, state: State) -> StateVector:
        """The full state vector, norm included (small ``n`` only)."""

    def sample(self, key: jax.Array, state: State, n_samples: int) -> Samples:
        """Symbol strings drawn from |psi|^2."""

    def fidelity(self, state: State) -> RealScalar:
        """Estimated fidelity with the untruncated state (1 for an exact backend)."""
