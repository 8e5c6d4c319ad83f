"""The server's decisions apart from Flower's processes: when a round may update the global
model, and FedAdam's moments carried through a checkpoint (a resumed run continues them)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import jax
import numpy as np
import pytest

from qtnet.federated import load_run
from qtnet.federated.config import FederatedConfig
from qtnet.federated.local import params_to_arrays
from qtnet.federated.server import GlobalModel, RoundFailed, check_round

TINY = "configs/federated/tiny.yaml"


def test_a_round_with_a_failed_client_completes_unless_failures_are_refused():
    fed = FederatedConfig(clients=3, round_timeout=30)
    check_round(1, 3, 3, [], fed)
    check_round(1, 3, 2, ["client on node 7: ClientApp stopped responding."], fed)
    check_round(1, 3, 1, [], fed)                      # two timed out: the third counts
    with pytest.raises(RoundFailed, match=r"^round 2: none of the 3 sampled clients sent an "
                                          r"update \(client on node 7: boom; 2 sent no reply "
                                          r"within federated.round_timeout = 30 s\)$"):
        check_round(2, 3, 0, ["client on node 7: boom"], fed)
    strict = FederatedConfig(clients=3, round_timeout=30, accept_failures=False)
    check_round(4, 3, 3, [], strict)
    with pytest.raises(RoundFailed, match=r"^round 4: 1 of the 3 sampled clients sent no "
                                          r"update \(1 sent no reply within federated."
                                          r"round_timeout = 30 s\) and federated."
                                          r"accept_failures is false; the global model stays "
                                          r"at round 3$"):
        check_round(4, 3, 2, [], strict)


def test_a_straggler_window_ends_the_round_after_the_first_update(monkeypatch):
    # Two clients sampled; one replies at t = 4 s, the other never (its process died). The
    # server stops waiting straggler_timeout after the first update, else at round_timeout.
    pytest.importorskip("flwr", reason="the federated extra (flwr) is not installed")
    from qtnet.federated import flower_apps

    clock = [0.0]
    monkeypatch.setattr(flower_apps.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(flower_apps.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))

    class Grid:
        def push_messages(self, messages):
            return ["to-a", "to-b"]

        def pull_messages(self, ids):
            if clock[0] >= 4.0 and "to-a" in ids:
                return [SimpleNamespace(metadata=SimpleNamespace(reply_to_message_id="to-a"),
                                        has_content=lambda: True)]
            return []

    for straggler, ends in ((None, 30.0), (1.5, 5.5), (100.0, 30.0)):
        clock[0] = 0.0
        replies = flower_apps.send_and_receive(Grid(), [None, None], 30.0, straggler)
        assert len(replies) == 1 and clock[0] == pytest.approx(ends, abs=0.21)
    fed = FederatedConfig(clients=2, round_timeout=30, straggler_timeout=1.5)
    with pytest.raises(RoundFailed, match=r"1 sent no reply within federated.round_timeout = "
                                          r"30 s \(federated.straggler_timeout = 1.5 s after "
                                          r"the first update\)"):
        check_round(3, 2, 1, [], dataclasses.replace(fed, accept_failures=False))
    check_round(3, 2, 1, [], fed)


def test_fedadam_moments_survive_a_checkpoint(tmp_path):
    pytest.importorskip("flwr", reason="the federated extra (flwr) is not installed")
    from flwr.serverapp.strategy import FedAdam, FedAvg

    from qtnet.federated.flower_apps import restore_strategy_state, strategy_state

    run = load_run(TINY, ["federated.strategy=fedadam"])
    strategy = FedAdam()
    model = GlobalModel(run, tmp_path, lambda p: strategy_state(strategy, p))
    params = model.setup.state.params
    assert strategy_state(FedAvg(), params) is None
    assert all(not np.any(leaf) for leaf in jax.tree.leaves(model.setup.state.opt_state))
    rng = np.random.default_rng(0)
    shapes = [a.shape for a in params_to_arrays(params)]
    strategy.m_t = {str(i): rng.normal(size=s).astype(np.float32) for i, s in enumerate(shapes)}
    strategy.v_t = {str(i): rng.random(s).astype(np.float32) for i, s in enumerate(shapes)}
    model.save(1, params, {"eval": {"accuracy": 0.5}, "totals": {}},
               strategy_state(strategy, params))
    model.close()

    resumed = FedAdam()
    again = GlobalModel(run, tmp_path, lambda p: strategy_state(resumed, p))
    done, _, state = again.restore()
    again.close()
    restore_strategy_state(resumed, state)
    assert done == 1
    for mine, theirs in ((resumed.m_t, strategy.m_t), (resumed.v_t, strategy.v_t)):
        assert mine.keys() == theirs.keys()
        assert all(np.array_equal(mine[k], theirs[k]) for k in mine)


def test_fedadam_steps_at_the_scheduled_server_step():
    # The same replies, from the same moments, at round 2 of 2: cosine with end factor 0.25
    # steps 0.625 of server_learning_rate (the constant schedule's step); both the ServerApp
    # and the in-process simulation aggregate through flower_apps.aggregate.
    pytest.importorskip("flwr", reason="the federated extra (flwr) is not installed")
    from qtnet.federated.flower_apps import aggregate, make_strategy
    from qtnet.federated.simulation import client_reply

    rng = np.random.default_rng(0)
    start = {"0": rng.normal(size=(3, 2)), "1": rng.normal(size=4)}
    replies = [client_reply([x + 0.01 * rng.normal(size=x.shape) for x in start.values()], n)
               for n in (30, 10)]
    moved = {}
    for schedule in ("constant", "cosine"):
        fed = FederatedConfig(strategy="fedadam", rounds=2, server_learning_rate=0.3,
                              server_schedule=schedule, server_end_factor=0.25)
        strategy = make_strategy(fed)
        strategy.current_arrays = start
        arrays, _ = aggregate(strategy, fed, 2, replies)
        moved[schedule] = [a - x for a, x in zip(arrays.to_numpy_ndarrays(), start.values())]
        assert strategy.eta == fed.server_step(2)
    for c, s in zip(moved["constant"], moved["cosine"]):
        assert np.abs(c).max() > 1e-3
        np.testing.assert_allclose(s, 0.625 * c, rtol=1e-9)
