"""Parties, registers and protocols: the paper's distributed compositional models."""

from qtnet.parties.library import chain_protocol, figure2_protocol
from qtnet.parties.protocol import (BlockEncoding, Encode, HadamardProduct, HandOff, Party,
                                    Protocol, Readout, Unitary, embed_brickwork)
from qtnet.parties.registers import (Layout, Register, amplitude_encode, encode_matrix,
                                     pad_to_register, qubits_for)

__all__ = [
    "BlockEncoding", "Encode", "HadamardProduct", "HandOff", "Layout", "Party", "Protocol",
    "Readout", "Register", "Unitary", "amplitude_encode", "chain_protocol", "embed_brickwork",
    "encode_matrix", "figure2_protocol", "pad_to_register", "qubits_for",
]
