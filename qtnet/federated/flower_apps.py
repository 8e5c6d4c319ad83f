"""The Flower ``ClientApp`` and ``ServerApp`` of a federated run (Flower's Message API).

Flower runs each in its own process: the SuperLink starts ``flwr-serverapp`` for the run, and
each SuperNode starts a ``flwr-clientapp`` process per message it receives. Both read the run
folder named by the run config's ``run-folder`` (its ``federated.yaml``); the client learns
its partition from its SuperNode's ``--node-config partition-id=<i>``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAdam, FedAvg, FedProx

client = ClientApp()
server = ServerApp()
XLA_CACHE = "xla_cache"        # the run folder's compilation cache (unless the config names one)


def _process_age() -> float | None:
    """Seconds since this process started (Linux; None elsewhere)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError, IndexError):
        return None


@client.train()
def train(msg: Message, context: Context) -> Message:
    """One round of one client in this (fresh) process. The reply's metrics say where the
    time went: ``started_seconds`` from process start to here (interpreter, Flower, the app,
    the message), ``import_seconds``, ``build_seconds`` (data, model), ``first_step_seconds``
    (trace and compile, or XLA's cache), ``other_steps_seconds``, and ``process_seconds``
    from process start to the reply."""
    started = _process_age()
    t0 = time.perf_counter()
    from qtnet import compilation_cache
    from qtnet.federated.config import read_run
    from qtnet.federated.data_cache import CACHE_DIR, cached_loader
    from qtnet.federated.local import LocalTrainer, arrays_to_params, params_to_arrays

    t1 = time.perf_counter()
    workdir = Path(str(context.run_config["run-folder"]))
    run = read_run(workdir)
    compilation_cache.enable(run.config.compilation.cache,
                             run.config.compilation.cache_dir or workdir / XLA_CACHE)
    client_id = int(context.node_config["partition-id"])
    local = LocalTrainer.build(run, client_id, cached_loader(workdir / CACHE_DIR))
    t2 = time.perf_counter()
    params = arrays_to_params(local.setup.state.params,
                              msg.content["arrays"].to_numpy_ndarrays())
    config = msg.content["config"]
    mu = float(config.get("proximal-mu", 0.0))
    params, metrics = local.train_round(params, int(config["server-round"]), mu)
    metrics = {k: float(v) for k, v in metrics.items()}
    metrics.update({"num-examples": len(local.indices), "client": client_id,
                    "pid": os.getpid(), "seconds": time.perf_counter() - t1,
                    "import_seconds": t1 - t0, "build_seconds": t2 - t1})
    if started is not None:
        metrics.update({"started_seconds": started, "process_seconds": _process_age()})
    content = RecordDict({"arrays": ArrayRecord(params_to_arrays(params)),
                          "metrics": MetricRecord(metrics)})
    return Message(content=content, reply_to=msg)


def make_strategy(fed):
    """Flower's strategy object for ``federated.strategy`` (FedAvg, FedProx, FedAdam)."""
    common = dict(fraction_train=fed.fraction, min_train_nodes=fed.sampled_per_round,
                  min_available_nodes=fed.clients, fraction_evaluate=0.0)
    if fed.strategy == "fedprox":
        return FedProx(proximal_mu=fed.proximal_mu, **common)
    if fed.strategy == "fedadam":
        return FedAdam(eta=fed.server_learning_rate, tau=fed.server_tau, **common)
    return FedAvg(**common)


def aggregate(strategy, fed, server_round: int, replies):
    """``strategy.aggregate_train`` at this round's server step (FedAdam's ``eta`` by
    ``federated.server_schedule``)."""
    if isinstance(strategy, FedAdam):
        strategy.eta = fed.server_step(server_round)
    return strategy.aggregate_train(server_round, replies)


def strategy_state(strategy, params):
    """The strategy's own state, checkpointed with the global model so that a resumed run
    continues it (FedAdam's moments); None for a strategy without one. Zero moments are
    FedAdam's initial ones."""
    from qtnet.federated.local import params_to_arrays

    if not isinstance(strategy, FedAdam):
        return None
    params_arrays = params_to_arrays(params)
    keys = list(ArrayRecord(params_arrays).keys())
    moments = [strategy.m_t, strategy.v_t]
    return {name: {k: np.asarray(m[k]) if m else np.zeros_like(a)
                   for k, a in zip(keys, params_arrays)}
            for name, m in zip(("m", "v"), moments)}


def restore_strategy_state(strategy, state) -> None:
    """Continue the strategy's state from a checkpoint's (see :func:`strategy_state`)."""
    if isinstance(strategy, FedAdam):
        strategy.m_t = {k: np.asarray(v) for k, v in state["m"].items()}
        strategy.v_t = {k: np.asarray(v) for k, v in state["v"].items()}


def send_and_receive(grid: Grid, messages: list[Message], timeout: float,
                      straggler_timeout: float | None = None) -> list[Message]:
    """``grid.send_and_receive``, polling every 0.2 s instead of Flower's 3 s; once the first
    update came, waiting at most ``straggler_timeout`` s more for the others."""
    waiting = set(grid.push_messages(messages))
    replies: list[Message] = []
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        got = list(grid.pull_messages(waiting))
        if (straggler_timeout is not None and any(m.has_content() for m in got)
                and not any(m.has_content() for m in replies)):
            deadline = min(deadline, time.monotonic() + straggler_timeout)
        replies += got
        waiting -= {m.metadata.reply_to_message_id for m in got}
        if waiting:
            time.sleep(0.2)
    return replies


@server.main()
def main(grid: Grid, context: Context) -> None:
    from qtnet import compilation_cache
    from qtnet.federated.config import read_run
    from qtnet.federated.local import arrays_to_params, params_to_arrays
    from qtnet.federated.runtime import SERVER_PID
    from qtnet.federated.server import GlobalModel, RoundFailed, check_round, write_report

    started = time.time()
    workdir = Path(str(context.run_config["run-folder"]))
    (workdir / SERVER_PID).write_text(str(os.getpid()))
    run = read_run(workdir)
    compilation_cache.enable(run.config.compilation.cache,
                             run.config.compilation.cache_dir or workdir / XLA_CACHE)
    fed = run.federated
    strategy = make_strategy(fed)
    model = GlobalModel(run, workdir, lambda params: strategy_state(strategy, params))
    try:
        done, params, server_state = model.restore()
        if done:
            restore_strategy_state(strategy, server_state)
        print(f"qtnet federated: global model at round {done} of {fed.rounds}", flush=True)
        arrays = ArrayRecord(params_to_arrays(params))
        for round_ in range(done + 1, fed.rounds + 1):
            t0 = time.perf_counter()
            messages = list(strategy.configure_train(round_, arrays, ConfigRecord(), grid))
            replies = send_and_receive(grid, messages, fed.round_timeout,
                                        fed.straggler_timeout)
            check_round(round_, len(messages), sum(m.has_content() for m in replies),
                        [f"client on node {m.metadata.src_node_id}: {m.error.reason}"
                         for m in replies if m.has_error()], fed)
            arrays, _ = aggregate(strategy, fed, round_, replies)
            if arrays is None:
                raise RoundFailed(f"round {round_}: Flower's {type(strategy).__name__} could "
                                  f"not aggregate the updates; see the log above")
            params = arrays_to_params(model.setup.state.params, arrays.to_numpy_ndarrays())
            by_node = {str(m.metadata.src_node_id): dict(m.content["metrics"])
                       for m in replies if m.has_content()}
            record = model.round_record(round_, by_node, len(messages), params,
                                        time.perf_counter() - t0)
            model.save(round_, params, record, strategy_state(strategy, params))
            print(f"qtnet federated: round {round_}: test accuracy "
                  f"{record['eval']['accuracy']:.4f}, {record['replied']}/{record['sampled']} "
                  f"clients, {record['totals']['bits_up'] + record['totals']['bits_down']:.3g} "
                  f"bits", flush=True)
        write_report(run, workdir, done, started)
    finally:
        model.close()
