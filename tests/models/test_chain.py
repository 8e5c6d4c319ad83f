"""Split learning: the K-party chain trained by the ordinary trainer, each party on its own
device (4 host devices in a subprocess), equals the chain trained in one piece (float64);
on one device it trains in one piece; bad placements are config errors."""

from pathlib import Path

import jax
import pytest
from flax import nnx

from qtnet.config import Config, ConfigError, load
from qtnet.models import build_model
from qtnet.parties import chain_protocol
from tests.helpers import run_on_host_devices

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "split_chain_digits.yaml"


@pytest.fixture(scope="module")
def results():
    return run_on_host_devices("models/chain_check.py", timeout=900)


@pytest.mark.slow
def test_split_training_equals_training_in_one_piece(results):
    assert results["angles_devices"] == 4          # party p's angles live on device p
    assert results["param_moved"] > 1e-2           # training moved them ...
    assert results["param_diff"] < 1e-10           # ... exactly as in one piece
    assert results["loss_diff"] < 1e-10 and results["eval_diff"] < 1e-10


@pytest.mark.slow
def test_split_run_resumes_on_its_devices(results):
    assert results["resumed_from"] == 3
    assert results["resume_diff"] < 1e-10


@pytest.mark.slow
def test_every_party_and_hand_off_is_metered(results):
    comm = results["comm"]
    assert {f"comm_flops_forward_p{k}" for k in range(4)} <= set(comm)
    assert comm["comm_quantum_qubits"] > 0 and comm["comm_classical_bits"] > 0
    # 3 steps x 7 device hand-offs (p0 .. p3, twice), forward and back, each moving 8 samples'
    # dense states: 64 float64 amplitudes and a float64 log-norm
    assert comm["comm_device_bytes"] == 3 * 7 * 2 * 8 * (64 * 8 + 8)


def test_chain_protocol_hands_the_state_along_and_back():
    protocol = chain_protocol(["a", "b", "c"], 4, rounds=2, class_qubits=2)
    pairs = [(h.sender, h.receiver) for h in protocol.handoffs()]
    assert pairs == [("a", "b"), ("b", "c"), ("c", "a"), ("a", "b"), ("b", "c")]


def test_devices_placement_needs_a_device_per_party():
    config = load(Config, CONFIG, ["model.placement=devices", "model.parties=8"])
    if len(jax.devices()) >= 8:
        pytest.skip("this process sees 8 devices")
    with pytest.raises(ConfigError, match="model.placement.*8 parties.*XLA_FLAGS"):
        build_model(config, 64, 10, nnx.Rngs(params=0))
