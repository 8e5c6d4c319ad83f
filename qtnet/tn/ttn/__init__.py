"""Binary tree tensor networks (fixed shapes, one vmap per level) and the hierarchical
pooling circuit (a QCNN) evaluated on them."""

from qtnet.tn.ttn.network import (TTN, check_leaves, from_dense, from_mps, product_state,
                                  to_dense, tree_bond_dims)
from qtnet.tn.ttn.ops import (apply_pair_layer, apply_single_site_layer, expectation_local,
                              expectation_pauli, norm, overlap, scale)

__all__ = ["TTN", "apply_pair_layer", "apply_single_site_layer", "check_leaves",
           "expectation_local", "expectation_pauli", "from_dense", "from_mps", "norm",
           "overlap", "product_state", "scale", "to_dense", "tree_bond_dims"]
