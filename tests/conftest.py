"""Tests run in float64 / complex128 so that backends can be compared to 1e-10."""

import jax
import numpy as np
import pytest
from hypothesis import settings

jax.config.update("jax_enable_x64", True)

settings.register_profile("qtnet", deadline=None, max_examples=12, derandomize=True,
                          print_blob=True)
settings.load_profile("qtnet")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
