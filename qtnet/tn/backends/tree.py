"""The tree backend: binary tree tensor networks over 2^L sites (:mod:`qtnet.tn.ttn`).

A tree holds states whose entanglement follows a hierarchy of blocks, and runs the
hierarchical pooling circuit (a QCNN) exactly on them. Operations that would cut across the
tree (gates between two leaf pairs, MPO algebra, sampling) are not implemented: they raise
and name the backend to use instead; pair gates ``(2j, 2j + 1)`` are
:func:`qtnet.tn.ttn.apply_pair_layer`.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax.numpy as jnp

from qtnet.tn import ttn
from qtnet.tn.backends import register
from qtnet.tn.mps import vectors_from_label


def _unsupported(operation: str):
    raise NotImplementedError(
        f"the tree backend has no {operation}: a tree tensor network runs gates on the "
        f"pairs (2j, 2j+1) under one leaf node (qtnet.tn.ttn.apply_pair_layer) and the "
        f"pooling circuit (qtnet.tn.ttn.pooling); use backend 'mps' for {operation}")


@dataclasses.dataclass(frozen=True)
class TreeBackend:
    """Operations on :class:`qtnet.tn.ttn.TTN`; see :class:`qtnet.tn.backends.Backend`."""

    name: str = "tree"
    state_type: ClassVar[type] = ttn.TTN

    def check_sites(self, n_sites):
        ttn.check_leaves(n_sites)              # memory grows linearly in the leaves

    def encode(self, vector, *, max_bond=None, cutoff=0.0, dtype=None):
        return ttn.from_dense(vector, max_bond=max_bond, dtype=dtype)

    def product_state(self, vectors, *, max_bond=1, dtype=None):
        if isinstance(vectors, str):
            vectors = vectors_from_label(vectors)
        return ttn.product_state(vectors, dtype=dtype)

    def zero_state_for(self, program, n_qubits, *, max_bond=None, dtype=None):
        _unsupported("gate programs")

    def astype(self, state, dtype):
        return dataclasses.replace(state, levels=tuple(t.astype(dtype) for t in state.levels))

    def apply_single_site_layer(self, state, gates):
        return ttn.apply_single_site_layer(state, gates)

    def apply_brickwork(self, state, single, pairs, *, max_bond=None, cutoff=0.0):
        _unsupported("brickwork layers (gates across leaf pairs)")

    def apply_two_site_sequence(self, state, sites, gates, *, max_bond=None, cutoff=0.0):
        _unsupported("two-site gate sequences")

    def apply_program(self, state, program, *, cutoff=0.0):
        _unsupported("gate programs")

    def apply_mpo(self, mpo, state, *, max_bond=None, cutoff=0.0):
        _unsupported("MPO application")

    def hadamard(self, a, b, *, max_bond=None, cutoff=0.0):
        _unsupported("Hadamard products")

    def add(self, a, b, *, max_bond=None, cutoff=0.0):
        _unsupported("state sums")

    def scale(self, state, factor):
        return ttn.scale(state, factor)

    def compress(self, state, *, max_bond, cutoff=0.0):
        _unsupported("compression (build the tree at its bond: from_dense / from_mps)")

    def overlap(self, bra, ket):
        return ttn.overlap(bra, ket)

    def norm(self, state):
        return ttn.norm(state)

    def expectation_pauli(self, state, observable):
        return ttn.expectation_pauli(state, observable)

    def expectation_mpo(self, state, mpo):
        _unsupported("MPO expectation values")

    def marginal_probabilities(self, state, n_first):
        _unsupported("marginal probabilities")

    def amplitudes(self, state):
        return ttn.to_dense(state)

    def sample(self, key, state, n_samples):
        _unsupported("sampling")

    def fidelity(self, state):
        return jnp.asarray(state.fidelity_estimate)


TREE_BACKEND = register(TreeBackend())
