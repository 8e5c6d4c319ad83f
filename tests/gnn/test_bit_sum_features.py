"""Bit-sum node features (qtnet.gnn.synthetic.bit_sum_features) against their formula,
written out amplitude by amplitude in numpy (float64)."""

import itertools

import jax
import numpy as np
import pytest

from qtnet import tn
from qtnet.gnn.synthetic import bit_sum_features

jax.config.update("jax_enable_x64", True)


@pytest.mark.parametrize("n_node, n_feat, terms, uniform", [(5, 2, 3, 0.5), (4, 1, 1, 0.0)])
def test_amplitudes_are_a_constant_plus_signed_bit_sums(n_node, n_feat, terms, uniform):
    seed = 3
    state = bit_sum_features(n_node, n_feat, terms, uniform, seed, max_bond=terms + 2)
    rng = np.random.default_rng(seed)                 # the documented draws, in order
    a = rng.normal(size=(n_node, terms)) / np.sqrt(n_node)
    w = rng.normal(size=(n_feat, terms, 2))
    want = []
    for word in itertools.product((0, 1), repeat=n_node + n_feat):
        v, f = np.array(word[:n_node]), word[n_node:]
        s = ((1 - 2 * v)[:, None] * a).sum(0)
        want.append(uniform + sum(s[j] * np.prod([w[q, j, f[q]] for q in range(n_feat)])
                                  for j in range(terms)))
    want = np.array(want) / np.linalg.norm(want)
    assert np.abs(np.asarray(tn.to_dense(state)) - want).max() < 1e-12
    assert float(state.norm) == pytest.approx(1.0, abs=1e-12)
    assert float(state.fidelity_estimate) == pytest.approx(1.0, abs=1e-12)   # exact


def test_a_bond_too_small_for_the_sums_is_refused():
    with pytest.raises(ValueError, match="3 bit sums need bond 4"):
        bit_sum_features(4, 1, 3, 0.5, 0, max_bond=3)
