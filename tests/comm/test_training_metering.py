"""A circuit model's training metrics carry each party's forward FLOPs per step."""

from pathlib import Path

from qtnet.comm import Estimator, meter
from qtnet.config import Config, load
from qtnet.training.setup import build_setup

TINY = str(Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml")


def test_setup_meters_flops_per_party_on_the_models_backend():
    config = load(Config, TINY, ["backend.max_bond=4"])
    setup = build_setup(config)
    model = setup.model()
    batch = config.training.batch_size
    m = config.metering
    est = Estimator(m.epsilon, m.delta, m.gradient, m.bits)
    capped = meter(model.protocol(), est, max_bond=4, dtype="float32").per_party()
    exact = meter(model.protocol(), est, dtype="float32").per_party()
    per_step = setup.comm_per_step
    for party in ("alice", "bob"):
        assert per_step[f"flops_forward_{party}"] == batch * capped[party]["flops"]
        assert capped[party]["flops"] < exact[party]["flops"]      # the cap was read
    assert per_step["classical_mps_bits"] > 0
