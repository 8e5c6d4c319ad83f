"""A trained SIGN node classifier as a two-party circuit (DESIGN.md §4).

Registers, in chain order: ``node`` (n qubits) | ``hop`` (r qubits) | ``feat`` (f qubits, wide
enough for the features, the hidden units and the classes). Alice holds the graph and the
features; Bob holds the weights.

    Alice  encode       psi[v, k, x] = X[v, x] u[k]             (u[k] = 1 for k <= R)
    Alice  select-T^k   psi[:, k]   <- T^k psi[:, k]            (controlled powers of T)
           ---- hand-off: the state goes to Bob (twice per readout copy: see below) ----
    Bob    select-W_k   psi[v, k]   <- psi[v, k] W_k            (acts on hop ⊗ feat)
    Bob    bias         psi         += 1_N ⊗ sum_k |k>|b_k>
    Bob    polynomial   psi         <- c0_k 1 + c1_k psi + c2_k psi ⊙ psi   (two copies)
    Bob    read-out     z[v, c]      = <v, 0, c| W_out psi> + b_out[c]

Values are those of the sub-normalised state (no 1/alpha factors; the meter accounts for
them in copies). The dense form (:meth:`SignCircuit.output_dense`) holds the register
tensor ``psi [2^n, 2^r, 2^f]`` and applies each operator on its registers (T as a sparse
matrix); the network form (:meth:`SignCircuit.output_network`, run on the ``mps`` backend or
any other) builds every operator as an MPO and every prepared state as the backend's state:
exact when the bond cap is the full one, a controlled approximation with fidelity estimate
otherwise. Building an operator's
MPO goes through its dense matrix, so the network form refuses an operator on more than
``MAX_OPERATOR_QUBITS`` (12) qubits, before building anything (Cora's select-T would be a
2^15 x 2^15 matrix, 8.6 GB; a real citation graph has no low-bond structure anyway, so its
MPO would be no smaller). Use the dense form there; structured graphs use
:mod:`qtnet.gnn.synthetic`.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp
from jax.experimental import sparse as jsparse

from qtnet import tn
from qtnet.tn import backends
from qtnet.comm import Estimator, meter
from qtnet.parties import (BlockEncoding, Encode, HadamardProduct, Layout, Party, Protocol,
                           Readout, Register)


@dataclasses.dataclass(frozen=True)
class SignWeights:
    """Bob's half: a trained polynomial SIGN model's parameters (evaluation mode)."""

    w: np.ndarray          # [K, F, H]
    b: np.ndarray          # [K, H]
    coef: np.ndarray       # [K, 3]: c0, c1, c2 per hop
    w_out: np.ndarray      # [K * H, C]
    b_out: np.ndarray      # [C]

    @classmethod
    def from_model(cls, model) -> SignWeights:
        """From a :class:`qtnet.models.sign.SIGN` with ``activation="poly"``."""
        if model.activation != "poly":
            raise ValueError(f"only the polynomial SIGN has a circuit form; this model uses "
                             f"{model.activation!r} (PReLU is not a polynomial)")
        return cls(*(np.asarray(a[...]) for a in (model.w, model.b, model.coef,
                                                  model.out.kernel, model.out.bias)))

    @property
    def hops(self) -> int:
        return self.w.shape[0]


MAX_OPERATOR_QUBITS = 12      # an operator's dense matrix: 4^12 float64 = 128 MiB


def _qubits(size: int) -> int:
    return max(1, math.ceil(math.log2(size)))


class SignCircuit:
    """The circuit form of a polynomial SIGN on one graph: ``logits(backend=...)``."""

    def __init__(self, propagation: sp.spmatrix, features: np.ndarray, weights: SignWeights):
        n_nodes, n_feat = features.shape
        k, _, hidden = weights.w.shape
        if propagation.shape != (n_nodes, n_nodes):
            raise ValueError(f"propagation operator {propagation.shape} does not match "
                             f"{n_nodes} nodes")
        if weights.w.shape[1] != n_feat:
            raise ValueError(f"weights expect {weights.w.shape[1]} features, the data has "
                             f"{n_feat}")
        self.n_nodes, self.n_features, self.hidden = n_nodes, n_feat, hidden
        self.n_classes = weights.w_out.shape[1]
        self.weights = weights
        self.layout = Layout((Register("node", _qubits(n_nodes)), Register("hop", _qubits(k)),
                              Register("feat", _qubits(max(n_feat, hidden, self.n_classes)))))
        self.dims = tuple(r.dim for r in self.layout.registers)
        self.propagation = sp.csr_matrix(propagation)
        self.features = np.asarray(features)

    # -- the pieces, zero-padded to register sizes ---------------------------------------

    def _pad(self, a, shape):
        a = np.asarray(a, np.float64)
        return np.pad(a, [(0, s - d) for s, d in zip(shape, a.shape)])

    def data_state(self) -> np.ndarray:
        """Alice's prepared ``X[v, x] u[k]`` as ``[2^n, 2^r, 2^f]``."""
        nv, nk, nf = self.dims
        x = self._pad(self.features, (nv, nf))
        u = (np.arange(nk) < self.weights.hops).astype(np.float64)
        return x[:, None, :] * u[None, :, None]

    def weight_blocks(self) -> np.ndarray:
        """``[2^r, 2^f, 2^f]``: W_k on the feat register (input index x, output h)."""
        _, nk, nf = self.dims
        return self._pad(self.weights.w, (nk, nf, nf))

    def bias_state(self) -> np.ndarray:
        nv, nk, nf = self.dims
        ones = (np.arange(nv) < self.n_nodes).astype(np.float64)
        return ones[:, None, None] * self._pad(self.weights.b, (nk, nf))[None]

    def constant_state(self) -> np.ndarray:
        """c0_k on every valid (node, hop, hidden unit)."""
        nv, nk, nf = self.dims
        ones = (np.arange(nv) < self.n_nodes).astype(np.float64)
        c0 = self._pad(np.broadcast_to(self.weights.coef[:, :1], (self.weights.hops,
                                                                  self.hidden)), (nk, nf))
        return ones[:, None, None] * c0[None]

    def coefficient(self, j: int) -> np.ndarray:
        """``[2^r]``: c_j per hop (zero on unused hop states)."""
        return self._pad(self.weights.coef[:, j], self.dims[1:2])

    def readout_blocks(self) -> np.ndarray:
        """``[2^r, 2^f, 2^f]``: W_out as blocks ``[k, h, c]``."""
        _, nk, nf = self.dims
        k, h, c = self.weights.hops, self.hidden, self.n_classes
        return self._pad(self.weights.w_out.reshape(k, h, c), (nk, nf, nf))

    # -- dense backend ----------------------------------------------------------------------

    def output_dense(self) -> jax.Array:
        """``W_out psi`` restricted to hop state 0: ``[2^n, 2^f]`` (node, class)."""
        nv, nk, _ = self.dims
        t = self.propagation.tocoo()
        t_op = jsparse.BCOO((jnp.asarray(t.data), jnp.stack([jnp.asarray(t.row),
                                                               jnp.asarray(t.col)], 1)),
                            shape=(nv, nv))
        psi = jnp.asarray(self.data_state())
        # select-T^k as controlled powers: the hop qubit holding bit j of k applies T^(2^j)
        # to the hop states with that bit set, so hop state k gets T^k.
        for j in range(self.layout.register("hop").n_qubits):
            has_bit = np.flatnonzero((np.arange(nk) >> j) & 1)   # only these hop states move
            moved = psi[:, has_bit]
            for _ in range(1 << j):
                moved = (t_op @ moved.reshape(nv, -1)).reshape(moved.shape)
            psi = psi.at[:, has_bit].set(moved)
        # select-W_k; the padded output columns of W_k are zero, so contract only the first
        # H and pad after (the same state, 2^f / H times fewer operations).
        nf, hidden = self.dims[2], self.hidden
        psi = jnp.einsum("vkx,kxh->vkh", psi, self.weight_blocks()[:, :, :hidden])
        psi = jnp.pad(psi, ((0, 0), (0, 0), (0, nf - hidden)))
        psi = psi + self.bias_state()
        c1, c2 = (jnp.asarray(self.coefficient(j))[None, :, None] for j in (1, 2))
        # c0 is carried by constant_state (only on real nodes and hidden units)
        psi = self.constant_state() + c1 * psi + c2 * psi * psi
        return jnp.einsum("vkh,khc->vc", psi, self.readout_blocks())

    # -- MPS backend ------------------------------------------------------------------------

    def _mpo(self, matrix, registers) -> tn.MPO:
        sites = self.layout.span(registers)
        mpo = tn.mpo_from_dense(jnp.asarray(matrix), n_sites=len(sites), dtype=jnp.float64)
        return tn.mpo_embed(mpo, sites.start, self.layout.n_qubits)

    def select_t_matrix(self) -> np.ndarray:
        """``[(v, k), (w, k')] = T^k[v, w] δ_kk'`` on node ⊗ hop (dense; small graphs)."""
        nv, nk, _ = self.dims
        t = self._pad(self.propagation.toarray(), (nv, nv))
        out = np.zeros((nv, nk, nv, nk))
        power = np.eye(nv)
        for k in range(nk):
            out[:, k, :, k] = power
            power = t @ power
        return out.reshape(nv * nk, nv * nk)

    def _block_diag_on_hop(self, blocks) -> np.ndarray:
        """``[(k, out), (k', in)] = blocks[k][in, out] δ_kk'`` on hop ⊗ feat."""
        nk, nf = blocks.shape[0], blocks.shape[2]
        out = np.zeros((nk, nf, nk, nf))
        for k in range(nk):
            out[k, :, k, :] = blocks[k].T
        return out.reshape(nk * nf, nk * nf)

    def output_mps(self, max_bond: int | None = None, cutoff: float = 0.0):
        """``(out [2^n, 2^f], fidelity estimate)`` on the MPS backend; exact with
        ``max_bond=None``."""
        return self.output_network("mps", max_bond, cutoff)

    def output_network(self, backend: str | backends.Backend, max_bond: int | None = None,
                       cutoff: float = 0.0):
        """``(out [2^n, 2^f], fidelity estimate)`` on any backend: every operator an MPO,
        every prepared state the backend's encoding of it, bond cap ``max_bond`` (``None``:
        the full one, exact).

        One compiled program (op-by-op dispatch would compile every operation apart)."""
        ops = backends.get(backend)
        self.check_operator_sizes(ops.name)
        return jax.jit(lambda: self._output_network(ops, max_bond, cutoff))()

    def check_operator_sizes(self, backend_name: str) -> None:
        """Refuse operators too large to build: each MPO goes through its dense matrix."""
        for registers in (("node", "hop"), ("hop", "feat")):
            qubits = len(self.layout.span(registers))
            if qubits > MAX_OPERATOR_QUBITS:
                gib = 4.0**qubits * 8 / 2**30
                raise ValueError(
                    f"the circuit form on the {backend_name!r} backend builds the operator on "
                    f"{' ⊗ '.join(registers)} ({qubits} qubits) as an MPO from its dense "
                    f"2^{qubits} x 2^{qubits} matrix ({gib:.3g} GiB); the limit is "
                    f"{MAX_OPERATOR_QUBITS} qubits per operator. Use backend='dense' (T "
                    f"applied as a sparse matrix) for a graph this size")

    def _output_network(self, ops: backends.Backend, max_bond, cutoff):
        n = self.layout.n_qubits
        cap = max_bond or 2 ** (n // 2)
        kw = dict(max_bond=cap, cutoff=cutoff)

        def state(vec):
            return ops.encode(jnp.asarray(vec).reshape(-1), max_bond=cap, cutoff=cutoff,
                              dtype=jnp.float64)

        _, nk, nf = self.dims
        psi = state(self.data_state())                                          # Alice
        psi = ops.apply_mpo(self._mpo(self.select_t_matrix(), ("node", "hop")), psi, **kw)
        psi = ops.apply_mpo(self._mpo(self._block_diag_on_hop(self.weight_blocks()),
                                      ("hop", "feat")), psi, **kw)              # Bob
        bias = self.bias_state()
        if np.any(bias):                        # a zero vector has no normalised state
            psi = ops.add(psi, state(bias), **kw)
        square = ops.hadamard(psi, psi, **kw)
        eye = np.eye(nf)
        diag = [np.kron(np.diag(self.coefficient(j)), eye) for j in (1, 2)]
        psi = ops.add(ops.apply_mpo(self._mpo(diag[0], ("hop", "feat")), psi, **kw),
                      ops.apply_mpo(self._mpo(diag[1], ("hop", "feat")), square, **kw), **kw)
        constant = self.constant_state()
        if np.any(constant):
            psi = ops.add(psi, state(constant), **kw)
        # W_out: rows (k' = 0, c), columns (k, h)
        w_out = np.zeros((nk, nf, nk, nf))
        w_out[0] = self.readout_blocks().transpose(2, 0, 1)
        psi = ops.apply_mpo(self._mpo(w_out.reshape(nk * nf, nk * nf), ("hop", "feat")), psi,
                            **kw)
        amplitudes = ops.amplitudes(psi).reshape(self.dims)
        return jnp.real(amplitudes[:, 0, :]), ops.fidelity(psi)

    def output(self, backend: str | backends.Backend = "dense", max_bond: int | None = None,
               cutoff: float = 0.0) -> jax.Array:
        """``W_out psi`` restricted to hop state 0, ``[2^n, 2^f]`` (node, class).

        A backend with a hand-written form of this circuit (a method ``_form_<name>``; the
        dense one, :meth:`output_dense`, applies T as a sparse matrix and never builds an
        operator over the registers) uses it; any other runs :meth:`output_network`.
        """
        ops = backends.get(backend)
        form = getattr(self, f"_form_{ops.name}", None)
        if form is None:
            return self.output_network(ops, max_bond, cutoff)[0]
        return form(max_bond, cutoff)

    def _form_dense(self, max_bond, cutoff) -> jax.Array:
        return self.output_dense()          # exact: no bond to cap

    # -- read-outs --------------------------------------------------------------------------

    def logits(self, backend: str = "dense", max_bond: int | None = None,
               cutoff: float = 0.0) -> jax.Array:
        """``[n_nodes, C]``: z[v, c] = <v, 0, c|W_out psi> + b_out[c]."""
        out = self.output(backend, max_bond, cutoff)
        return out[:self.n_nodes, :self.n_classes] + self.weights.b_out

    def decision_means(self, nodes, out=None) -> jax.Array:
        """``[C]``: mean logits over a node set, read as one overlap with the uniform state on
        the set (what the decision problem needs, instead of one amplitude per node)."""
        out = self.output_dense() if out is None else out
        uniform = jnp.zeros(self.dims[0]).at[jnp.asarray(nodes)].set(1.0 / len(nodes))
        return uniform @ out[:, :self.n_classes] + self.weights.b_out

    # -- communication ----------------------------------------------------------------------

    def sub_normalisations(self) -> dict[str, float]:
        """alpha >= ||M||_2 for each block-encoded operator."""
        # A fixed start vector: ARPACK's default is drawn from numpy's global state.
        t_norm = float(sp.linalg.svds(self.propagation.astype(np.float64), k=1,
                                      return_singular_vectors=False, random_state=0)[0])
        k = self.weights.hops
        w = self.weights
        return {"select_T": max(1.0, t_norm ** (k - 1)),
                "select_W": max(float(np.linalg.norm(w.w[i], 2)) for i in range(k)),
                "W_out": float(np.linalg.norm(w.w_out, 2))}

    def protocol(self, readout: str = "nodes") -> Protocol:
        """The step list the meter reads: Alice's encode and select-T^k, Bob's select-W_k,
        the Hadamard product (two copies), W_out and an overlap read-out."""
        alpha = self.sub_normalisations()
        return Protocol(
            (Party("alice"), Party("bob")), self.layout,
            (Encode("alice", "x"),
             BlockEncoding("alice", "select_T", ("node", "hop"), alpha["select_T"]),
             BlockEncoding("bob", "select_W", ("hop", "feat"), alpha["select_W"]),
             HadamardProduct("bob"),
             BlockEncoding("bob", "W_out", ("hop", "feat"), alpha["W_out"]),
             Readout("bob", reference=readout)))

    def comm_report(self, estimator: Estimator, readout: str = "nodes",
                    n_estimates: int = 1, *, backend: str = "mps",
                    max_bond: int | None = None, dtype=np.float64):
        """The ledger for ``n_estimates`` read-out values (per-node logits: nodes x classes;
        the decision problem: one mean per class), each to ``estimator.epsilon`` with the
        failure probability split over them (union bound).

        The contraction ledger prices one run of :meth:`protocol`'s steps on ``backend`` at
        bond cap ``max_bond`` (encode, select-T^k, select-W_k, the Hadamard product, W_out,
        the overlap; not the bias and coefficient sums of :meth:`output_network`), with each
        operator's MPO at the exact bond of a generic operator on its registers (building
        the real MPOs would need their dense matrices). The crossover scales the quantum
        total by ``n_estimates`` like the rows."""
        if n_estimates < 1:
            raise ValueError(f"n_estimates must be >= 1, got {n_estimates}")
        return meter(self.protocol(readout), estimator, name=f"sign-{readout}",
                     backend=backend, max_bond=max_bond, dtype=dtype, estimates=n_estimates)
