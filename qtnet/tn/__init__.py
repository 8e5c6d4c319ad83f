"""qtnet.tn: fixed-shape MPS/MPO engine (JAX pytrees, jit/vmap/grad-stable) and a dense twin."""

from qtnet.tn import backends
from qtnet.tn.algebra import add, apply_mpo, hadamard, sample
from qtnet.tn.ansatz import ANSATZE, embed_brickwork
from qtnet.tn.canonical import canonicalize, compress, with_bond_cap
from qtnet.tn.contract import (expectation_local, expectation_mpo, expectation_pauli,
                               log_overlap, marginal_probabilities, norm, overlap)
from qtnet.tn.evolve import (apply_brickwork, apply_gate, apply_gates, apply_pair_layer,
                             apply_single_site_layer, apply_two_site_sequence)
from qtnet.tn.gates import gate_matrix, su4
from qtnet.tn.mpo import (MPO, mpo_embed, mpo_from_dense, mpo_from_local, mpo_identity,
                          mpo_pauli, mpo_sum, mpo_to_dense, parse_pauli_string)
from qtnet.tn.mpo_builders import mpo_controlled, mpo_kron, mpo_shift, mpo_transpose
from qtnet.tn.mps import (MPS, computational_basis_state, default_dtype, mps_from_dense,
                          pad_to_power, product_state, random_mps, scale, to_dense)
from qtnet.tn.program import GateProgram, brickwork_bond_bound, compile_program
from qtnet.tn.svd import svd

__all__ = [
    "ANSATZE", "GateProgram", "MPO", "MPS", "add", "apply_brickwork", "apply_gate",
    "apply_gates", "apply_mpo", "apply_pair_layer", "apply_single_site_layer",
    "apply_two_site_sequence", "backends", "brickwork_bond_bound", "canonicalize",
    "compile_program", "compress", "computational_basis_state", "default_dtype",
    "embed_brickwork", "expectation_local", "expectation_mpo", "expectation_pauli",
    "gate_matrix", "hadamard", "log_overlap", "marginal_probabilities", "mpo_controlled",
    "mpo_embed", "mpo_from_dense", "mpo_from_local", "mpo_identity", "mpo_kron", "mpo_pauli",
    "mpo_shift", "mpo_sum", "mpo_to_dense", "mpo_transpose", "mps_from_dense", "norm",
    "overlap", "pad_to_power", "parse_pauli_string", "product_state", "random_mps", "sample",
    "scale", "su4", "svd", "to_dense", "with_bond_cap",
]
