"""The contraction ledger: every party's contractions in a protocol, with FLOPs and bytes.

Bookkeeping beside the numerics, like the hand-off meter: it reads the protocol's steps, the
backend's name, the bond cap and the dtype, and computes every count from static shapes
(:mod:`qtnet.comm.flops`); nothing is traced or run. One record per step and kind:

    encoding          the data vector into the backend's state (a TT-SVD on the MPS backend)
    gate_layer        the contractions of a Unitary's brickwork
    mpo_application   a BlockEncoding's operator contracted into the state
    hadamard_product  psi ⊙ psi
    compression       the decompositions that bring a grown bond back to the cap
    expectation | overlap | probabilities   the Readout
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from qtnet.comm import flops as F
from qtnet.parties.protocol import (BlockEncoding, Encode, HadamardProduct, Protocol, Readout,
                                    Unitary)
from qtnet.tn import backends
from qtnet.tn.mpo import pauli_terms

KINDS = ("encoding", "gate_layer", "mpo_application", "hadamard_product", "compression",
         "expectation", "overlap", "probabilities")
CONTRACTION_FIELDS = ("step", "party", "kind", "registers", "count", "flops", "bytes",
                      "bond_in", "bond_out")
PHYS_DIM = 2


@dataclasses.dataclass(frozen=True)
class Contraction:
    """One kind of work a step does: ``count`` contractions (or decompositions) costing
    ``flops`` in all, holding at most ``bytes`` of tensors at once; bonds are the padded caps
    (``None`` on a statevector)."""

    step: int
    party: str
    kind: str
    registers: tuple[str, ...]
    count: int
    flops: int
    bytes: int
    bond_in: int | None = None
    bond_out: int | None = None

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["registers"] = list(self.registers)
        return out


@dataclasses.dataclass(frozen=True)
class _Context:
    protocol: Protocol
    n: int
    chi: int                       # the MPS bond cap (unused on a statevector)
    complex_: bool
    itemsize: int
    operator_bonds: Mapping[str, int]

    @property
    def factor(self) -> int:
        return F.COMPLEX_FACTOR if self.complex_ else 1

    def operator_bond(self, step: BlockEncoding) -> int:
        """The MPO's bond cap: given, or the exact bond of a generic operator on its sites."""
        if step.key in self.operator_bonds:
            return int(self.operator_bonds[step.key])
        k = len(self.protocol.layout.span(step.registers))
        return PHYS_DIM ** (2 * (k // 2))


def bond_cap(n_qubits: int, max_bond: int | None) -> int:
    """The MPS array bond of a protocol's state: ``max_bond``, or ``2^(n // 2)`` (exact)."""
    return int(max_bond) if max_bond is not None else PHYS_DIM ** (n_qubits // 2)


def bond_profile(n_qubits: int, max_bond: int | None) -> list[int]:
    """The bond profile ``[n + 1]`` a protocol's state may have at any hand-off (exact
    integers: the exact bonds of 4096 qubits overflow a float).

    Every protocol starts by encoding arbitrary data, which may need every bond up to
    ``d^min(b, n - b)``; no later step (gates, MPOs, Hadamard products) lowers a bound, and
    every bond is capped at ``max_bond`` (``None``: no cap). So the structural bound at every
    hand-off is this profile; a state of lower rank would be known only by running it.
    """
    full = [PHYS_DIM ** min(b, n_qubits - b) for b in range(n_qubits + 1)]
    return full if max_bond is None else [min(int(max_bond), x) for x in full]


def mps_numbers(profile, d: int = PHYS_DIM) -> int:
    """Numbers in an MPS with bond profile ``profile [n + 1]``: sum_i chi_i d chi_(i+1)."""
    p = [int(x) for x in profile]
    return sum(a * d * b for a, b in zip(p[:-1], p[1:]))


# -- the MPS backend -------------------------------------------------------------------------

def _mps_encode(ctx: _Context):
    n, c, d, N = ctx.n, ctx.chi, PHYS_DIM, PHYS_DIM**ctx.n
    count, svds = F.mps_encode_svds(n, c, d)
    largest = max((m * k for m, k in F.mps_encode_shapes(n, c, d)), default=0)
    # the vector and its normalised copy, one SVD's input and factors, the MPS
    return [("encoding", count, svds + 6 * N, 2 * N + 2 * largest + n * c * c * d, None, c)]


def _mps_unitary(ctx: _Context, step: Unitary):
    n, c, d = ctx.n, ctx.chi, PHYS_DIM
    start = ctx.protocol.layout.span(step.registers).start
    layers = step.depth + start % 2                    # embed_brickwork's shifted layer
    state = n * c * c * d
    if n < 2:
        return [("gate_layer", layers * n, layers * F.mps_single_site_layer(n, c, d),
                 2 * state, c, c)]
    pairs = n // 2                                     # every slot, identities included
    contract = layers * (F.mps_single_site_layer(n, c, d) + pairs * F.two_site_contraction(c, d))
    decomp = layers * pairs * F.two_site_decomposition(c, d)
    m = c * d
    return [("gate_layer", layers * (n + pairs), contract, 2 * state + pairs * 2 * m * m, c, c),
            ("compression", layers * pairs, decomp, state + pairs * 3 * m * m, c, c)]


def _canonicalize(ctx: _Context, bond: int, extra_bytes: int):
    n, c, d = ctx.n, ctx.chi, PHYS_DIM
    count, cost = F.canonicalize_flops(n, bond, c, d)
    work = 3 * bond * d * bond                          # one SVD's input and factors
    return ("compression", count, cost, extra_bytes + 2 * n * bond * bond * d + work, bond, c)


def _mps_block_encoding(ctx: _Context, step: BlockEncoding):
    n, c, d = ctx.n, ctx.chi, PHYS_DIM
    w = ctx.operator_bond(step)
    raw = n * (w * c) ** 2 * d
    return [("mpo_application", n, F.mpo_mps_contraction(n, w, c, d),
             n * c * c * d + n * w * w * d * d + raw, c, w * c),
            _canonicalize(ctx, w * c, n * c * c * d)]


def _mps_hadamard(ctx: _Context):
    n, c, d = ctx.n, ctx.chi, PHYS_DIM
    x = F.hadamard_sweep_bond(c, c, c)
    count, cost = F.mps_hadamard(n, c, c, x, d)
    work = x * c * c + 2 * x * d * c * c + x * d * x          # carry, SVD input and U
    return [("hadamard_product", count, cost, 2 * n * c * c * d + n * x * x * d + work, c, x),
            _canonicalize(ctx, x, n * c * c * d)]


def _mps_readout(ctx: _Context, step: Readout):
    n, c, d = ctx.n, ctx.chi, PHYS_DIM
    state = n * c * c * d
    norm = F.transfer_scan(n, c, d)                    # ops.norm in the readout
    if step.kind == "observable":
        coeffs, _ = pauli_terms(step.observable, n)
        k = len(coeffs)
        cost = k * F.expectation_term(n, c, d) + 2 * norm     # terms, <psi|psi>, ||psi||
        return [("expectation", k * n + 2 * n, cost, state + (k + 1) * c * c, c, c)]
    if step.kind == "probabilities":
        k = step.probabilities
        return [("probabilities", k + n, F.marginal(k, c, d) + norm,
                 state + d**k * c, c, c)]
    return _mps_encode(ctx) + [("overlap", 2 * n, 2 * norm, 2 * state, c, c)]


# -- the dense backend -----------------------------------------------------------------------

def _dense_encode(ctx: _Context):
    N = PHYS_DIM**ctx.n
    return [("encoding", 1, 6 * N, 2 * N, None, None)]     # two normalisations, 3N each


def _dense_unitary(ctx: _Context, step: Unitary):
    n, d, N = ctx.n, PHYS_DIM, PHYS_DIM**ctx.n
    start = ctx.protocol.layout.span(step.registers).start
    count = cost = 0
    for layer in range(step.depth + start % 2):
        pairs = (n - layer % 2) // 2
        singles = n - 2 * pairs
        count += pairs + singles
        cost += pairs * F.gate_on_vector(2, N, d) + singles * F.gate_on_vector(1, N, d)
    return [("gate_layer", count, cost, 2 * N, None, None)]


def _dense_block_encoding(ctx: _Context, step: BlockEncoding):
    n, d, N = ctx.n, PHYS_DIM, PHYS_DIM**ctx.n
    w = ctx.operator_bond(step)
    # the embedded MPO made dense over all n sites (tn.dense.apply_mpo), then one mat-vec
    cost = F.mpo_to_dense(n, w, d) + 2 * N * N + 3 * N
    return [("mpo_application", n, cost, N * N * w + N * N + 2 * N, None, None)]


def _dense_hadamard(ctx: _Context):
    N = PHYS_DIM**ctx.n
    return [("hadamard_product", 1, 4 * N, 3 * N, None, None)]   # product, then normalise


def _dense_readout(ctx: _Context, step: Readout):
    n, d, N = ctx.n, PHYS_DIM, PHYS_DIM**ctx.n
    if step.kind == "observable":
        _, ops = pauli_terms(step.observable, n)
        eye = np.eye(d)
        acting = [sum(not np.allclose(t[q], eye) for q in range(n)) for t in ops]
        cost = sum(a * F.gate_on_vector(1, N, d) + 2 * N for a in acting) + 4 * N
        return [("expectation", sum(acting) + len(acting), cost, 2 * N, None, None)]
    if step.kind == "probabilities":
        return [("probabilities", 1, 4 * N, N, None, None)]
    return _dense_encode(ctx) + [("overlap", 1, 4 * N, 2 * N, None, None)]


COST_MODELS = {
    "mps": {Encode: _mps_encode, Unitary: _mps_unitary, BlockEncoding: _mps_block_encoding,
            HadamardProduct: _mps_hadamard, Readout: _mps_readout},
    "dense": {Encode: _dense_encode, Unitary: _dense_unitary,
              BlockEncoding: _dense_block_encoding, HadamardProduct: _dense_hadamard,
              Readout: _dense_readout},
}
"""Per backend name, the cost of each step type; a new backend adds its own entry."""


def contraction_ledger(protocol: Protocol, *, backend: str | backends.Backend = "mps",
                       max_bond: int | None = None, dtype=None,
                       operator_bonds: Mapping[str, int] | None = None) -> list[Contraction]:
    """Every party's contractions when ``protocol`` runs once (one copy, one sample).

    Args:
      backend: the backend the protocol runs on (a name or a Backend).
      max_bond: the MPS bond cap (``None``: exact, ``2^(n // 2)``), as in
        :meth:`Protocol.run`.
      dtype: the state's dtype (default: the engine's default, complex).
      operator_bonds: bond cap of each BlockEncoding's MPO by key (default: the exact bond
        of a generic operator on the step's registers, ``d^(2 floor(k / 2))``).

    Raises:
      ValueError: no cost model for ``backend``, or a bad ``max_bond``.
    """
    from qtnet import tn

    name = backends.get(backend).name
    if name not in COST_MODELS:                        # registered but not modelled
        raise ValueError(f"no contraction cost model for backend {name!r}; modelled: "
                         f"{', '.join(COST_MODELS)}")
    if max_bond is not None and (not isinstance(max_bond, int | np.integer) or max_bond < 1):
        raise ValueError(f"max_bond must be a positive integer or None, got {max_bond!r}")
    dt = np.dtype(dtype if dtype is not None else tn.default_dtype())
    n = protocol.layout.n_qubits
    ctx = _Context(protocol, n, bond_cap(n, max_bond), bool(np.issubdtype(dt, np.complexfloating)),
                   dt.itemsize, dict(operator_bonds or {}))
    model = COST_MODELS[name]
    out = []
    for i, step in enumerate(protocol.steps):
        regs = (tuple(step.registers) if isinstance(step, Unitary | BlockEncoding)
                else protocol.layout.names)
        simple = isinstance(step, Encode | HadamardProduct)
        items = model[type(step)](ctx) if simple else model[type(step)](ctx, step)
        for kind, count, cost, elements, b_in, b_out in items:
            out.append(Contraction(i, step.party, kind, regs, int(count),
                                   int(cost) * ctx.factor, int(elements) * ctx.itemsize,
                                   b_in, b_out))
    return out


def per_party(records: list[Contraction]) -> dict[str, dict]:
    """``{party: {"contractions", "flops", "bytes", "by_kind": {kind: flops}}}``; bytes is
    the largest single record's (the party's peak)."""
    out: dict[str, dict] = {}
    for r in records:
        p = out.setdefault(r.party, {"contractions": 0, "flops": 0, "bytes": 0, "by_kind": {}})
        p["contractions"] += r.count
        p["flops"] += r.flops
        p["bytes"] = max(p["bytes"], r.bytes)
        p["by_kind"][r.kind] = p["by_kind"].get(r.kind, 0) + r.flops
    return out
