"""The deep polynomial model's degree in its input is 2^L (measured, not assumed)."""

import jax
import pytest

from qtnet.experiments.expressivity import degree_table

jax.config.update("jax_enable_x64", True)


def test_degree_doubles_with_each_layer():
    rows = degree_table((1, 2, 3), rest_qubits=2, n_classes=2)
    assert [r["fit_degree"] for r in rows] == [2, 4, 8]
    for r in rows:
        assert r["slope"] == pytest.approx(r["expected"], abs=0.2)
