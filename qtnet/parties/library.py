"""Ready-made protocols: the paper's Figure 2 model, a K-party chain (split learning) and a
linear classifier (one inner product per class)."""

from __future__ import annotations

from qtnet.parties.protocol import Encode, Party, Protocol, Readout, Unitary
from qtnet.parties.registers import Register
from qtnet.tn.shapes import Angles


def figure2_protocol(n_qubits: int, layers: int, *, depth: int = 1, ansatz: str = "ry_cz",
                     observable="Z0", class_qubits: int | None = None,
                     devices=(None, None)) -> Protocol:
    """|psi(theta, x)> = A_L B_L ... A_1 B_1 |x>, loss <psi|O|psi>.

    Alice holds x (``data["x"]``) and the A's (``params["A1"]``...), Bob the B's; Alice reads
    out <O>, or with ``class_qubits = k`` the distribution of the first k qubits (a
    classifier's class register). Per forward copy: 2L hand-offs of ``n_qubits`` qubits.
    """
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    reg = ("data",)
    steps = [Encode("alice", "x")]
    for layer in range(1, layers + 1):
        steps.append(Unitary("bob", f"B{layer}", reg, depth, ansatz))
        steps.append(Unitary("alice", f"A{layer}", reg, depth, ansatz))
    if class_qubits is None:
        steps.append(Readout("alice", observable=observable))
    else:
        steps.append(Readout("alice", probabilities=class_qubits))
    parties = (Party("alice", devices[0]), Party("bob", devices[1]))
    return Protocol(parties, (Register("data", n_qubits),), steps)


def figure2_params(alice: Angles, bob: Angles) -> dict:
    """The protocol's parameters ``{"A1": alice[0], "B1": bob[0], ...}`` from each party's
    angles stacked over the L layers on the leading axis (the layout
    :class:`~qtnet.models.Figure2Classifier` trains)."""
    if alice.shape[0] != bob.shape[0]:
        raise ValueError(f"alice has {alice.shape[0]} layers, bob {bob.shape[0]}")
    params = {}
    for layer in range(alice.shape[0]):
        params[f"A{layer + 1}"], params[f"B{layer + 1}"] = alice[layer], bob[layer]
    return params


def figure2_layer(protocol: Protocol, state, alice, bob, **run_kw):
    """Layer pair l of a :func:`figure2_protocol` on ``state``: Bob's B_l, then Alice's A_l.

    Every layer pair has the steps of the first (steps 1 and 2), so this serves any layer
    given its angles, e.g. as the body of a ``lax.scan`` over the layers. ``run_kw`` are
    :meth:`Protocol.apply_step`'s options (backend, max_bond, cutoff, dtype).
    """
    state = protocol.apply_step(1, state, {"B1": bob}, {}, **run_kw)
    return protocol.apply_step(2, state, {"A1": alice}, {}, **run_kw)


def chain_protocol(party_names, n_qubits: int, *, rounds: int = 1, depth: int = 1,
                   ansatz: str = "ry_cz", observable="Z0", class_qubits: int | None = None,
                   devices=None) -> Protocol:
    """K parties in a chain (split learning): the first encodes x, each applies its own
    unitary (``params["<name><round>"]``) and passes the state on; the last reads out <O>,
    or with ``class_qubits = k`` the distribution of the first k qubits (a class register)."""
    names = list(party_names)
    if len(names) < 2:
        raise ValueError(f"a chain needs at least 2 parties, got {len(names)}")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    devices = devices or [None] * len(names)
    reg = ("data",)
    steps = [Encode(names[0], "x")]
    for r in range(1, rounds + 1):
        steps += [Unitary(name, f"{name}{r}", reg, depth, ansatz) for name in names]
    if class_qubits is None:
        steps.append(Readout(names[-1], observable=observable))
    else:
        steps.append(Readout(names[-1], probabilities=class_qubits))
    return Protocol(tuple(Party(n, d) for n, d in zip(names, devices)),
                    (Register("data", n_qubits),), steps)


def linear_protocol(n_qubits: int, *, devices=(None, None)) -> Protocol:
    """A linear classifier's score <w, x>: Alice encodes the unit vector x (``data["x"]``),
    sends it to Bob, who reads out Re <w|x> against his unit weight vector (``data["w"]``,
    by a Hadamard test). No layer, no Hadamard product: one hand-off of ``n_qubits`` qubits
    per copy; a K-class classifier is K such estimates (``meter(..., estimates=K)``)."""
    steps = [Encode("alice", "x"), Readout("bob", reference="w")]
    return Protocol((Party("alice", devices[0]), Party("bob", devices[1])),
                    (Register("data", n_qubits),), steps)
