"""The QCNN's ledger: the tree contraction priced einsum by einsum agrees with XLA's count of
the compiled read-out, the program backends count the gates the traced step scans over, and
a QCNN training run is metered on its backend."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qtnet.comm import flops as F
from qtnet.comm.qcnn_ledger import pooling_program_gates, program_ledger, tree_pooling_ledger
from qtnet.config import Config, load
from qtnet.models.qcnn import controlled_rotation, two_qubit_unitary
from qtnet.tn import backends
from qtnet.tn.ttn import network as ttn
from qtnet.tn.ttn.pooling import PoolingCircuit, pooling_expectation, tree_pooling_expectation
from qtnet.training.setup import build_setup


def _circuit(n: int) -> PoolingCircuit:
    levels = n.bit_length() - 1
    k = jax.random.split(jax.random.PRNGKey(n), 5)
    return PoolingCircuit(two_qubit_unitary(jax.random.normal(k[0], (15,))),
                          two_qubit_unitary(jax.random.normal(k[1], (levels - 1, 15))),
                          controlled_rotation(jax.random.normal(k[2], (levels - 1, 2, 3))),
                          controlled_rotation(jax.random.normal(k[3], (levels - 1, 2, 3))),
                          controlled_rotation(jax.random.normal(k[4], (2, 3))))


def test_einsum_flops_prices_the_path_jax_takes():
    assert F.einsum_flops("ij,jk->ik", (3, 4), (4, 5)) == 2 * 3 * 4 * 5
    # (ij, jk) first (120), then (ik, kl) (180): the cheaper order of the two
    assert F.einsum_flops("ij,jk,kl->il", (3, 4), (4, 5), (5, 6)) == 120 + 180
    assert F.einsum_flops("iij->j", (3, 3, 4)) == 12                  # a trace reads 3 x 4


@pytest.mark.parametrize("n,cap", [(8, 4)])
def test_tree_ledger_agrees_with_xla_cost_analysis(n, cap):
    """XLA counts a complex multiply-add as 2 operations, as for a real one, so the ledger
    (real FLOPs: 4x for complex) over 4 is what it should match; the rest of XLA's count is
    elementwise work the ledger leaves out (conjugates, the read-out's normalisation)."""
    rng = np.random.default_rng(n)
    tree = ttn.from_dense(rng.normal(size=2**n) + 1j * rng.normal(size=2**n), max_bond=cap,
                          dtype=jnp.complex128)
    batch = jax.tree.map(lambda a: a[None], tree)
    read = lambda s, c: jax.vmap(lambda t: tree_pooling_expectation(t, c))(s)  # noqa: E731
    analysis = jax.jit(read).lower(batch, _circuit(n)).compile().cost_analysis()
    xla = float((analysis[0] if isinstance(analysis, list | tuple) else analysis)["flops"])
    records = tree_pooling_ledger([t.shape for t in tree.levels], batch=1)
    ratio = sum(r.flops for r in records) / F.COMPLEX_FACTOR / xla
    assert 0.9 < ratio <= 1.0, ratio
    assert [r.step for r in records] == list(range(1, n.bit_length() + 1))


def _scan_lengths(jaxpr) -> list[int]:
    out = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "scan":
            out.append(eqn.params["length"])
        for value in eqn.params.values():
            inner = getattr(value, "jaxpr", None)
            if inner is not None:
                out += _scan_lengths(getattr(inner, "jaxpr", inner))
    return out


@pytest.mark.parametrize("name", ["dense", "mps"])
def test_program_ledger_counts_the_gates_the_step_scans(name):
    n, chi = 8, 4
    backend, circuit = backends.get(name), _circuit(n)
    state = backend.encode(np.ones(2**n), max_bond=chi)
    jaxpr = jax.make_jaxpr(lambda c: pooling_expectation(backend, state, c))(circuit)
    gates = pooling_program_gates(circuit, n, state.dtype)
    assert gates == _scan_lengths(jaxpr.jaxpr)[0] > 14         # 14 pooling gates, routed
    records = program_ledger(name, n_sites=n, n_gates=gates, batch=3, max_bond=chi)
    per_gate = (F.two_site_contraction(chi) + F.two_site_decomposition(chi) if name == "mps"
                else F.gate_on_vector(2, 2**n))
    assert records[0].count == 3 * gates
    assert records[0].flops == 3 * gates * per_gate * F.COMPLEX_FACTOR
    with pytest.raises(ValueError, match="no QCNN cost model for backend 'tn'"):
        program_ledger("tn", n_sites=n, n_gates=gates, batch=1)


SMALL = ["model.type=qcnn", "data.type=cluster_ising", "data.qubits=4", "data.train_points=2",
         "data.test_points=1", "data.bond=16", "backend.dtype=complex128",
         "training.batch_size=2", "metering.enabled=true"]


def test_a_qcnn_run_is_metered_on_its_backend():
    per_step = {}
    for name in ("tree", "mps"):
        setup = build_setup(load(Config, None, SMALL + [f"backend.type={name}"]))
        records, handoff = setup.model().ledger(2)
        per_step[name] = setup.comm_per_step
        assert per_step[name]["flops_forward_Bob"] == sum(r.flops for r in records) > 0
        assert per_step[name]["quantum_qubits"] == 2 * 4 == 2 * handoff["qubits_per_copy"]
        assert per_step[name]["classical_bits"] == 2 * 2**4 * 32
    assert per_step["tree"]["flops_forward_Bob"] != per_step["mps"]["flops_forward_Bob"]
