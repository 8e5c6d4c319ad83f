"""What a federated round costs, per client: the parameters down and up at ``bits`` each,
the local contraction work, and, for comparison, the quantum hand-offs the same local steps
would need if the client sent copies of its data states to a model holder instead
(``qtnet.comm``'s estimators, priced once per training step by the trainer's setup)."""

from __future__ import annotations


def client_round_cost(n_params: int, bits: int, local_steps: int,
                      comm_per_step: dict) -> dict:
    """One sampled client's bill for one round.

    Args:
      n_params: numbers in the model's parameters.
      bits: bits per parameter on the wire.
      local_steps: optimiser steps the client runs this round.
      comm_per_step: :attr:`qtnet.training.Setup.comm_per_step` (empty: the model has no
        protocol to meter; the quantum figures are then absent).

    Returns:
      ``bits_down`` (the global model), ``bits_up`` (the update), and when metered:
      ``quantum_qubits`` / ``quantum_classical_bits`` (the distributed-protocol alternative:
      qubits sent, and bits of its classical analogue), ``flops_forward`` (local work).
    """
    out = {"bits_down": n_params * bits, "bits_up": n_params * bits}
    if comm_per_step:
        out["quantum_qubits"] = local_steps * comm_per_step["quantum_qubits"]
        out["quantum_classical_bits"] = local_steps * comm_per_step["classical_bits"]
        out["flops_forward"] = local_steps * sum(v for k, v in comm_per_step.items()
                                                 if k.startswith("flops_forward_"))
    return out


def round_totals(per_client: dict[str, dict]) -> dict:
    """Sum of every figure over the clients of one round."""
    totals: dict[str, float] = {}
    for bill in per_client.values():
        for k, v in bill.items():
            if isinstance(v, int | float) and k in _SUMMED:
                totals[k] = totals.get(k, 0) + v
    return totals


_SUMMED = ("bits_down", "bits_up", "quantum_qubits", "quantum_classical_bits", "flops_forward")
