"""The adaptive-cap run of a concrete program equals the dense statevector (complex128)."""

import numpy as np
import pytest

import qtnet.tn as tn
from qtnet.tn import adaptive
from qtnet.tn.backends.mps import basis_zero_state
from qtnet.tn.program import compile_program
from tests.tn.test_program import dense_reference, random_circuit


def _there_and_back(n, rng):
    ops = random_circuit(n, 30, rng)
    back = [(np.conj(np.asarray(m)).T, sites) for m, sites in reversed(ops)]
    return ops + back + [(np.asarray(m), s) for m, s in random_circuit(n, 6, rng)]


@pytest.mark.parametrize("cutoff", [0.0, 1e-24])
def test_adaptive_cap_grows_and_shrinks_and_stays_exact(cutoff, monkeypatch):
    n, rng = 6, np.random.default_rng(11)
    ops = _there_and_back(n, rng)          # entangles fully, undoes it, entangles a little
    prog = compile_program(ops, n)
    caps = []
    run_chunk = adaptive._run_chunk

    def spy(state, sites, gates, cutoff):
        caps.append(state.bond_cap)
        return run_chunk(state, sites, gates, cutoff=cutoff)

    monkeypatch.setattr(adaptive, "_run_chunk", spy)
    state = adaptive.apply_program_adaptive(basis_zero_state(n, 8, prog.gates.dtype),
                                            prog.sites, prog.gates, prog.final, cutoff=cutoff,
                                            chunk=8, start=2)
    assert state.bond_cap == 8
    np.testing.assert_allclose(np.asarray(tn.to_dense(state)), dense_reference(n, ops),
                               atol=1e-10)
    assert float(state.fidelity_estimate) == pytest.approx(1.0, abs=1e-12)
    assert caps[0] == 2 and max(caps) == 8
    if cutoff > 0:                          # zeros are dropped, so the cap comes back down
        assert caps[-1] < 8
