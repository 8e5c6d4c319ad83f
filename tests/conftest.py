"""Tests run in float64 / complex128 so that backends can be compared to 1e-10.

JAX's persistent compilation cache is off for every test and every command a test starts
(tests must not write to the user's ~/.cache); tests/test_compilation_cache.py turns it on in
a temporary folder.
"""

import os

import jax
import numpy as np
import pytest
from hypothesis import settings

os.environ["QTNET_COMPILATION_CACHE"] = "off"

jax.config.update("jax_enable_x64", True)

settings.register_profile("qtnet", deadline=None, max_examples=12, derandomize=True,
                          print_blob=True)
settings.load_profile("qtnet")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
