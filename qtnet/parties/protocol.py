"""Parties and protocols: an ordered list of steps, each owned by one party, run on any backend.

The state passes from party to party; every change of owner between consecutive steps is a
*hand-off*, which :mod:`qtnet.comm` meters. Running a protocol is a pure function of
``(params, data)``: jit it, differentiate it, vmap it over data.

Values are those of the (sub-normalised) state the hardware would hold: a block encoding of M
applies M itself (hardware applies M / alpha and succeeds with weight ||M psi||^2 / alpha^2;
the meter folds alpha into the copy count), a Hadamard product applies psi ⊙ psi (two copies
projected onto their diagonal). ``Readout`` returns <psi|O|psi> of that state, or
Re <ref|psi> for a unit reference state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from qtnet import tn
from qtnet.parties.registers import Layout, Register, amplitude_encode
from qtnet.tn import backends
from qtnet.tn.ansatz import ANSATZE, ansatz_param_shape, embed_brickwork
from qtnet.tn.mpo_norm import mpo_frobenius_norm, mpo_norm_lower_bound


@dataclasses.dataclass(frozen=True)
class Party:
    """A participant: owns data and/or parameters, and optionally a JAX device to run on."""

    name: str
    device: Any = None


@dataclasses.dataclass(frozen=True)
class Encode:
    """Amplitude-encode ``data[key]`` (a vector over all registers, or a ready state)."""

    party: str
    key: str


@dataclasses.dataclass(frozen=True)
class Unitary:
    """A brickwork unitary of ``depth`` layers on ``registers`` with angles ``params[key]``.

    ``ry_cz``: ``[depth, k]`` RY angles, CZ bricks; ``su4``: ``[depth, k // 2, 15]``.
    """

    party: str
    key: str
    registers: tuple[str, ...]
    depth: int = 1
    ansatz: str = "ry_cz"

    def param_shape(self, k: int) -> tuple[int, ...]:
        return ansatz_param_shape(self.ansatz, self.depth, k)


@dataclasses.dataclass(frozen=True)
class BlockEncoding:
    """Apply the MPO ``params[key]`` or ``data[key]`` on ``registers``; ``alpha >= ||M||_2``."""

    party: str
    key: str
    registers: tuple[str, ...]
    alpha: float


@dataclasses.dataclass(frozen=True)
class HadamardProduct:
    """Two copies of the state projected onto their diagonal: psi ⊙ psi."""

    party: str


@dataclasses.dataclass(frozen=True)
class Readout:
    """One of: <psi|O|psi> for a Pauli ``observable``; Re <ref|psi> with ``data[reference]``;
    the Born probabilities ``[2^k]`` of the first ``probabilities = k`` qubits (a class
    register), times ||psi||^2."""

    party: str
    observable: Any = None
    reference: str | None = None
    probabilities: int | None = None

    @property
    def kind(self) -> str:
        return ("observable" if self.observable is not None else
                "reference" if self.reference is not None else "probabilities")


Step = Encode | Unitary | BlockEncoding | HadamardProduct | Readout


@dataclasses.dataclass(frozen=True)
class HandOff:
    """The state moving between parties before ``step`` (an index into the steps)."""

    step: int
    sender: str
    receiver: str
    registers: tuple[str, ...]
    qubits_per_copy: int
    copies_factor: int           # copies of this state per readout copy (2^ Hadamard products)


@dataclasses.dataclass(frozen=True)
class Protocol:
    parties: tuple[Party, ...]
    layout: Layout
    steps: tuple[Step, ...]

    def __post_init__(self):
        object.__setattr__(self, "parties", tuple(self.parties))
        object.__setattr__(self, "steps", tuple(self.steps))
        if isinstance(self.layout, Sequence):
            object.__setattr__(self, "layout", Layout(tuple(self.layout)))
        self.validate()

    # -- structure -------------------------------------------------------------------------

    @property
    def party_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parties)

    def party(self, name: str) -> Party:
        for p in self.parties:
            if p.name == name:
                return p
        raise ValueError(f"unknown party {name!r}; parties are {', '.join(self.party_names)}")

    def validate(self) -> None:
        names = self.party_names
        if len(set(names)) != len(names):
            raise ValueError(f"party names must be unique: {', '.join(names)}")
        if not self.steps or not isinstance(self.steps[0], Encode):
            raise ValueError("a protocol starts with an Encode step")
        if not isinstance(self.steps[-1], Readout) or any(
                isinstance(s, Readout) for s in self.steps[:-1]):
            raise ValueError("a protocol ends with exactly one Readout step")
        for i, step in enumerate(self.steps):
            if step.party not in names:
                raise ValueError(f"step {i} ({type(step).__name__}) is owned by unknown party "
                                 f"{step.party!r}; parties are {', '.join(names)}")
            if isinstance(step, Encode) and i:
                raise ValueError(f"step {i}: Encode may only be the first step")
            if isinstance(step, Unitary | BlockEncoding):
                self.layout.span(step.registers)       # raises on unknown / non-adjacent
            if isinstance(step, Unitary) and step.ansatz not in ANSATZE:
                raise ValueError(f"step {i}: unknown ansatz {step.ansatz!r}; choose one of "
                                 f"{', '.join(ANSATZE)}")
            if isinstance(step, Unitary) and (not isinstance(step.depth, int) or step.depth < 1):
                raise ValueError(f"step {i}: depth must be a positive integer, got "
                                 f"{step.depth!r}")
            if isinstance(step, BlockEncoding) and not 0 < step.alpha < float("inf"):
                raise ValueError(f"step {i}: sub-normalisation alpha must be finite and > 0, "
                                 f"got {step.alpha}")
            if isinstance(step, Readout):
                given = [step.observable is not None, step.reference is not None,
                         step.probabilities is not None]
                if sum(given) != 1:
                    raise ValueError(f"step {i}: a Readout takes exactly one of observable, "
                                     f"reference, probabilities")
                if step.probabilities is not None and not (
                        1 <= step.probabilities <= self.layout.n_qubits):
                    raise ValueError(f"step {i}: probabilities of the first "
                                     f"{step.probabilities} qubits of {self.layout.n_qubits}")

    def handoffs(self) -> list[HandOff]:
        """Every change of owner between consecutive steps, with the qubits it carries."""
        out = []
        hadamards_after = [sum(isinstance(s, HadamardProduct) for s in self.steps[i:])
                           for i in range(len(self.steps))]
        for i in range(1, len(self.steps)):
            prev, step = self.steps[i - 1], self.steps[i]
            if prev.party != step.party:
                # the state entering step i is needed 2^(Hadamard products from i on) times
                out.append(HandOff(i, prev.party, step.party, self.layout.names,
                                   self.layout.n_qubits, 2 ** hadamards_after[i]))
        return out

    def sub_normalisation(self) -> float:
        """alpha of the state reaching the readout: block encodings multiply, a Hadamard
        product squares what came before."""
        alpha = 1.0
        for step in self.steps:
            if isinstance(step, BlockEncoding):
                alpha *= step.alpha
            elif isinstance(step, HadamardProduct):
                alpha *= alpha
        return alpha

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Angle array shape of every Unitary step, by parameter key."""
        return {s.key: s.param_shape(len(self.layout.span(s.registers))) for s in self.steps
                if isinstance(s, Unitary)}

    def parameter_counts(self) -> dict[int, int]:
        """Trainable angles per Unitary step (step index -> count)."""
        shapes = self.param_shapes()
        return {i: int(np.prod(shapes[s.key])) for i, s in enumerate(self.steps)
                if isinstance(s, Unitary)}

    def init_params(self, key, scale: float = 0.1, dtype=jnp.float32) -> dict[str, jax.Array]:
        """Gaussian angles (std ``scale``) for every Unitary step."""
        shapes = self.param_shapes()
        keys = jax.random.split(key, len(shapes))
        return {name: scale * jax.random.normal(k, shape, dtype)
                for k, (name, shape) in zip(keys, shapes.items())}

    # -- numerics --------------------------------------------------------------------------

    def run(self, params: Mapping[str, Any], data: Mapping[str, Any], *,
            backend: str | backends.Backend = "mps", max_bond: int | None = None,
            cutoff: float = 0.0, dtype=None) -> jax.Array:
        """The readout value. Pure in ``(params, data)``: jit/grad/vmap it.

        Args:
          backend: a name (``mps``, ``dense``, see :func:`qtnet.tn.backends.names`) or a
            :class:`~qtnet.tn.backends.Backend`.
        """
        state = None
        for i in range(len(self.steps)):
            state = self.apply_step(i, state, params, data, backend=backend, max_bond=max_bond,
                                    cutoff=cutoff, dtype=dtype)
        return state

    def apply_step(self, i: int, state, params, data, *, backend="mps", max_bond=None,
                   cutoff=0.0, dtype=None):
        """Step ``i`` on ``state``; the readout step returns the value instead of a state."""
        step = self.steps[i]
        ops = backends.get(backend)
        kw = {"max_bond": max_bond, "cutoff": cutoff}
        n = self.layout.n_qubits
        if isinstance(step, Encode):
            source = _lookup(data, step.key, i, "data")
            if backends.is_state(source):
                if source.n_sites != n:
                    raise ValueError(f"step {i}: state {step.key!r} has {source.n_sites} "
                                     f"sites, the registers have {n} qubits")
                return source
            state, _ = amplitude_encode(source, n, backend=ops, max_bond=max_bond,
                                        cutoff=cutoff, dtype=dtype)
            return state
        if isinstance(step, Unitary):
            sites = self.layout.span(step.registers)
            angles = jnp.asarray(_lookup(params, step.key, i, "params"))
            single, pairs = embed_brickwork(angles, step.ansatz, sites.start, len(sites), n,
                                            state.dtype)
            return ops.apply_brickwork(state, single, pairs, **kw)
        if isinstance(step, BlockEncoding):
            sites = self.layout.span(step.registers)
            mpo = step_operator(step, i, params, data, len(sites))
            check_sub_normalisation(mpo, step.alpha, f"step {i} ({step.key!r})")
            return ops.apply_mpo(tn.mpo_embed(mpo, sites.start, n), state, **kw)
        if isinstance(step, HadamardProduct):
            return ops.hadamard(state, state, **kw)
        # Readout
        if step.observable is not None:
            return ops.expectation_pauli(state, step.observable) * ops.norm(state) ** 2
        if step.probabilities is not None:
            return ops.marginal_probabilities(state, step.probabilities) * ops.norm(state) ** 2
        ref = _lookup(data, step.reference, i, "data")
        if not backends.is_state(ref):
            ref, _ = amplitude_encode(ref, n, backend=ops, max_bond=max_bond, dtype=dtype)
        return jnp.real(ops.overlap(ref, state)) / ops.norm(ref)


def _lookup(mapping, key, i, what):
    if key not in mapping:
        raise ValueError(f"step {i} needs {what}[{key!r}], which is missing; {what} has "
                         f"{', '.join(map(repr, mapping)) or 'no entries'}")
    return mapping[key]


def step_operator(step: BlockEncoding, i: int, params, data, n_sites: int) -> tn.MPO:
    source = params if step.key in params else data
    mpo = _lookup(source, step.key, i, "params or data")
    if not isinstance(mpo, tn.MPO):
        matrix = jnp.asarray(mpo)
        mpo = tn.mpo_from_dense(matrix, n_sites=n_sites, dtype=matrix.dtype)
    if mpo.n_sites != n_sites:
        raise ValueError(f"step {i}: operator {step.key!r} acts on {mpo.n_sites} sites, the "
                         f"registers {', '.join(step.registers)} have {n_sites} qubits")
    return mpo


MAX_NORM_CHECK_SITES = 12        # exact ||M||_2 from the dense matrix up to here
_checked: dict[tuple, float] = {}  # (operator bytes, alpha) -> norm bound already accepted


def operator_norm_bound(mpo: tn.MPO) -> tuple[float, str]:
    """``(bound, how)``: ||M||_2 exactly (dense, up to 12 sites), else the power-iteration
    estimate (a lower bound: a violation it shows is certain)."""
    if mpo.n_sites <= MAX_NORM_CHECK_SITES:
        return float(np.linalg.norm(np.asarray(tn.mpo_to_dense(mpo)), 2)), "exact"
    return mpo_norm_lower_bound(mpo), "power iteration"


def check_sub_normalisation(mpo: tn.MPO, alpha: float, what: str) -> None:
    """Raise unless ``alpha >= ||M||_2``: a block encoding of M applies M / alpha, which is
    only a contraction (a valid encoding) then. Checked on the concrete operator whenever it
    changes (a cache of accepted operators skips repeats); under tracing, at run time."""
    if isinstance(mpo.tensors, jax.core.Tracer):
        jax.debug.callback(lambda t: _check_concrete(tn.MPO(np.asarray(t)), alpha, what),
                           mpo.tensors)
        return
    _check_concrete(mpo, alpha, what)


def _check_concrete(mpo: tn.MPO, alpha: float, what: str) -> None:
    tensors = np.asarray(mpo.tensors)
    key = (tensors.shape, str(tensors.dtype), hash(tensors.tobytes()), float(alpha))
    if key in _checked:
        return
    tol = alpha * (1 + 1e-9)
    if mpo_frobenius_norm(mpo) > tol:                # ||M||_F <= alpha settles it cheaply
        norm, how = operator_norm_bound(mpo)
        if norm > tol:
            raise ValueError(f"{what}: sub-normalisation alpha = {alpha:.6g} is below the "
                             f"operator's spectral norm ({how}: {norm:.6g}); a block encoding "
                             f"needs alpha >= ||M||_2 — rescale the operator or raise alpha")
    if len(_checked) > 256:
        _checked.clear()
    _checked[key] = float(alpha)


__all__ = ["BlockEncoding", "Encode", "HadamardProduct", "HandOff", "Party", "Protocol",
           "Readout", "Register", "Step", "Unitary"]
