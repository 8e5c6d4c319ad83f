"""Federated learning of qtnet models on Flower: partitions of a dataset among clients, a
client's local round built from the trainer's pieces, the server's checkpoints and metering,
and a launcher for Flower's deployment runtime (SuperLink + SuperNodes on localhost).

Needs the ``federated`` extra (``pip install qtnet[federated]``) for Flower itself; the
modules here other than ``flower_apps`` and ``runtime`` import without it.
"""

from qtnet.federated.config import (FederatedConfig, FederatedRun, load_run, read_run,
                                    run_from_dict)
from qtnet.federated.metering import client_round_cost, round_totals
from qtnet.federated.partition import client_partitions, dirichlet_partition, iid_partition

__all__ = [
    "FederatedConfig", "FederatedRun", "client_partitions", "client_round_cost",
    "dirichlet_partition", "iid_partition", "load_run", "read_run", "round_totals",
    "run_from_dict",
]
