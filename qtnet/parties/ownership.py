"""Which party owns which input: the parameters and data each step reads, and their owners."""

from __future__ import annotations

from collections.abc import Iterable

from qtnet.parties.protocol import BlockEncoding, Encode, Protocol, Readout, Step, Unitary


def step_inputs(step: Step) -> tuple[list[str], list[str]]:
    """``(params keys, data keys)`` a step reads."""
    if isinstance(step, Unitary):
        return [step.key], []
    if isinstance(step, BlockEncoding):
        return [step.key], [step.key]
    if isinstance(step, Encode):
        return [], [step.key]
    if isinstance(step, Readout) and step.reference is not None:
        return [], [step.reference]
    return [], []


def input_owners(protocol: Protocol, present: Iterable[str] | None = None, *,
                 params_only: bool = False) -> dict[str, str]:
    """The party owning each input key (the one whose steps read it).

    Args:
      present: count only these keys (e.g. the entries of the given params and data);
        ``None`` counts every key a step names.
      params_only: only parameter keys (what :func:`~qtnet.parties.place_params` places).

    Raises:
      ValueError: two parties read the same key (an input belongs to one party).
    """
    keep = None if present is None else set(present)
    owner: dict[str, str] = {}
    for step in protocol.steps:
        p_keys, d_keys = step_inputs(step)
        for key in p_keys if params_only else (*p_keys, *d_keys):
            if keep is not None and key not in keep:
                continue
            prev = owner.setdefault(key, step.party)
            if prev != step.party:
                what = "parameter" if params_only else "input"
                raise ValueError(f"{what} {key!r} is read by both {prev!r} and "
                                 f"{step.party!r}; each {what} belongs to one party")
    return owner
