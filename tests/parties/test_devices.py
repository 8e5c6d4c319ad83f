"""Parties on separate devices (4 host devices in a subprocess): same values and gradients as
one device, hand-offs moved for real and their bytes counted."""

import pytest

from tests.helpers import run_on_host_devices

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    return run_on_host_devices("parties/device_check.py", timeout=600)


def test_values_and_gradients_equal_the_single_device_run(results):
    assert results["value_diff"] < 1e-12
    assert results["grad_diff"] < 1e-12
    assert results["chain_diff"] < 1e-12
    assert results["batch_diff"] < 1e-12 and results["batch_devices"] == 4
    assert results["spmd_value_diff"] < 1e-12 and results["spmd_grad_diff"] < 1e-12


def test_counted_bytes_are_the_bytes_of_the_moved_state(results):
    # Figure 2, L = 2: four hand-offs, each moving the whole state (32 float64 amplitudes and
    # the log-norm: 264 bytes).
    assert sorted(map(int, results["bytes"])) == [1, 2, 3, 4]
    assert set(results["bytes"].values()) == {results["state_bytes"]} == {32 * 8 + 8}
    assert results["report_sim_bytes"] == 4 * results["state_bytes"]
    assert results["spmd_bytes"] == results["bytes"]
    # A 4-party chain on 4 devices: p0 encodes and applies its unitary, then 3 hand-offs of a
    # dense 16-amplitude float64 state (amplitudes 16 x 8 bytes + an 8-byte log-norm).
    assert results["chain_bytes"] == {"2": 136, "3": 136, "4": 136}
