"""Parties, registers and protocols: the paper's distributed compositional models."""

from qtnet.parties.devices import (DeviceRun, data_mesh, place_params, run_batch,
                                   run_on_devices, shard_batch)
from qtnet.parties.library import (chain_protocol, figure2_params, figure2_protocol,
                                   linear_protocol)
from qtnet.parties.ownership import input_owners, step_inputs
from qtnet.parties.protocol import (BlockEncoding, Encode, HadamardProduct, HandOff, Party,
                                    Protocol, Readout, Unitary)
from qtnet.parties.registers import (Layout, Register, amplitude_encode, encode_matrix,
                                     pad_to_register, qubits_for)
from qtnet.tn.ansatz import embed_brickwork

__all__ = [
    "BlockEncoding", "DeviceRun", "Encode", "HadamardProduct", "HandOff", "Layout", "Party",
    "Protocol", "data_mesh", "place_params", "run_batch", "run_on_devices", "shard_batch",
    "Readout", "Register", "Unitary", "amplitude_encode", "chain_protocol", "embed_brickwork",
    "encode_matrix", "figure2_params", "figure2_protocol", "input_owners", "linear_protocol",
    "pad_to_register",
    "qubits_for", "step_inputs",
]
