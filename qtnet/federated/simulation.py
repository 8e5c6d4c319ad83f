"""A federation simulated in one process, for quick sweeps: every client's
:class:`~qtnet.federated.local.LocalTrainer` (what the ClientApp runs) and the server's update
by Flower's own strategy object (:func:`~qtnet.federated.flower_apps.make_strategy`; its
``configure_train`` / ``aggregate_train`` on replies built here). Not a federation: no
processes, no network; confirm a result on Flower (:mod:`qtnet.federated.runtime`).
"""

from __future__ import annotations

from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from qtnet.federated.config import FederatedRun
from qtnet.federated.flower_apps import aggregate, make_strategy
from qtnet.federated.local import LocalTrainer, arrays_to_params, params_to_arrays
from qtnet.training import make_eval_step
from qtnet.training.setup import run_eval


def client_reply(arrays, examples: int) -> Message:
    """A client's training reply as Flower's strategies read it: its parameter arrays and
    its number of examples (the weight of its update)."""
    # Flower stamps each Message with the running task's ids; outside a run there is none.
    for name in ("run_id", "node_id", "task_id"):
        if getattr(TaskIdentity, f"_{name}") is None:
            setattr(TaskIdentity, name, 0)
    return Message(content=RecordDict({"arrays": ArrayRecord(arrays),
                                       "metrics": MetricRecord({"num-examples": examples})}),
                   dst_node_id=0, message_type="train")


def simulate(run: FederatedRun, echo=None, clients: list[LocalTrainer] | None = None
             ) -> tuple[dict[str, list[float]], object]:
    """Run ``run``'s rounds with every client in every round; returns the global model's
    accuracy after each round, ``{"test": [...], "val": [...]}`` (``val`` when the dataset
    has a validation split), and its final parameters. ``echo`` (e.g. ``print``) gets a line
    per round; ``clients``, the run's ``LocalTrainer`` of every client (default: built here,
    sharing one compiled step)."""
    fed = run.federated
    if fed.sampled_per_round != fed.clients:
        raise ValueError("the in-process simulation trains every client in every round; "
                         f"federated.fraction = {fed.fraction} samples fewer")
    if clients is None:
        steps: dict = {}
        clients = [LocalTrainer.build(run, i, steps=steps) for i in range(fed.clients)]
    setup = clients[0].setup                 # the initial global model and the data
    eval_step = make_eval_step(setup.graphdef)
    strategy = make_strategy(fed)
    mu = fed.proximal_mu if fed.strategy == "fedprox" else 0.0
    arrays = ArrayRecord(params_to_arrays(setup.state.params))
    splits = ("test", "val") if setup.has_val else ("test",)
    accuracy: dict[str, list[float]] = {s: [] for s in splits}
    batch = run.config.training.batch_size
    for round_ in range(1, fed.rounds + 1):
        if hasattr(strategy, "current_arrays"):        # FedAdam keeps the sent model
            strategy.current_arrays = {k: a.numpy() for k, a in arrays.items()}
        params = arrays_to_params(setup.state.params, arrays.to_numpy_ndarrays())
        replies = [client_reply(params_to_arrays(c.train_round(params, round_, mu)[0]),
                          len(c.indices)) for c in clients]
        arrays, _ = aggregate(strategy, fed, round_, replies)
        params = arrays_to_params(setup.state.params, arrays.to_numpy_ndarrays())
        for split in splits:
            accuracy[split].append(float(run_eval(eval_step, params, setup.data, batch,
                                                  split)["accuracy"]))
        if echo is not None:
            echo(f"round {round_}: " + ", ".join(f"{s} accuracy {a[-1]:.4f}"
                                                 for s, a in accuracy.items()))
    return accuracy, params
