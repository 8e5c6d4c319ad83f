"""Conversions between qtnet's MPS / MPO and other tensor-network libraries: quimb
(:mod:`~qtnet.tn.interop.quimb`) and tensornetwork-ng (:mod:`~qtnet.tn.interop.tensornetwork`).
Neither library is imported until a conversion runs."""

from qtnet.tn.interop.quimb import from_quimb, to_quimb
from qtnet.tn.interop.tensornetwork import (from_tensornetwork, to_tensornetwork,
                                            to_tensornetwork_nodes)

__all__ = ["from_quimb", "from_tensornetwork", "to_quimb", "to_tensornetwork",
           "to_tensornetwork_nodes"]
