"""The pieces of the QCNN phase diagram that are not the QCNN: the reference boundary (the
half-chain entropy against exact diagonalisation, the peak finder, the reference phase map)
and the magnetisation read-out, at n = 8 in float64."""

import numpy as np
import pytest

from qtnet.data.cluster_ising import ground_state, half_chain_entropy
from qtnet.experiments.qcnn_phases import (boundary_along_h2, entropy_peak, magnetisation,
                                           reference_antiferromagnet, reference_spt)
from tests.helpers import cluster_ising_matrix, pauli_matrix


def test_the_half_chain_entropy_and_magnetisation_are_the_exact_ones():
    n, h1, h2 = 8, 0.9, -0.6
    w, v = np.linalg.eigh(cluster_ising_matrix(n, h1, h2))
    schmidt = np.linalg.svd(v[:, 0].reshape(2 ** (n // 2), -1), compute_uv=False) ** 2
    exact = -np.sum(schmidt * np.log2(np.where(schmidt > 0, schmidt, 1.0)))      # bits
    assert half_chain_entropy(n, h1, h2, bond=16) == pytest.approx(exact, abs=1e-6)
    mx = sum(v[:, 0] @ pauli_matrix({i: "X"}, n) @ v[:, 0] for i in range(n)) / n
    state, _ = ground_state(n, h1, h2, bond=16)
    assert magnetisation(state) == pytest.approx(mx, abs=1e-8)


def test_the_entropy_peak_is_found_between_scan_points():
    calls = []

    def bump(t):
        calls.append(t)
        return 1.0 / (1.0 + 25.0 * (t - 0.737) ** 2)

    found = entropy_peak(bump, 0.1, 1.6, coarse=6, fine=4)
    assert found["peak"] == pytest.approx(0.737, abs=0.01)     # scan spacing 0.3
    assert len(calls) == 10 and len(found["scan"]) == 10
    parabola = entropy_peak(lambda t: -(t - 0.41) ** 2, 0.0, 1.0)
    assert parabola["peak"] == pytest.approx(0.41, abs=1e-9)


def test_the_reference_phase_map_and_the_column_boundary():
    reference = {"rows": [{"h2": -0.5, "peak": 0.5}, {"h2": 0.5, "peak": 1.0}],
                 "columns": [{"h1": 0.0, "peak": -1.0}, {"h1": 1.0, "peak": 0.0}]}
    h1s, h2s = np.array([0.2, 0.6, 0.9]), np.array([-0.9, -0.25, 0.0, 1.0])
    spt = reference_spt(reference, h1s, h2s)
    # h1 limit at the rows: 0.5, 0.625, 0.75, 1.0; h2 limit at the columns: -0.8, -0.4, -0.1
    expected = np.array([[False, False, False],
                         [True, True, False],
                         [True, True, False],
                         [True, True, True]])
    np.testing.assert_array_equal(spt, expected)
    afm = reference_antiferromagnet(reference, h1s, h2s)          # below the column limits
    np.testing.assert_array_equal(afm, [[True] * 3, [False, False, True], [False] * 3,
                                        [False] * 3])
    assert boundary_along_h2([0.1, 0.3, 0.9], [-1.0, 0.0, 1.0], 0.5) == pytest.approx(1 / 3)
    assert np.isnan(boundary_along_h2([0.9, 0.1], [0.0, 1.0], 0.5))
