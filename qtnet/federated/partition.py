"""How a dataset's training examples are split among the clients: IID, or non-IID with each
class's examples shared out in Dirichlet(alpha) proportions (Hsu et al. 2019)."""

from __future__ import annotations

import numpy as np

from qtnet.config import ConfigError


def iid_partition(n: int, clients: int, seed: int) -> list[np.ndarray]:
    """A random permutation of ``range(n)`` cut into ``clients`` near-equal parts."""
    _check_clients(n, clients)
    perm = np.random.default_rng([seed, 1]).permutation(n)
    return [np.sort(part) for part in np.array_split(perm, clients)]


def dirichlet_partition(labels: np.ndarray, clients: int, alpha: float, seed: int, *,
                        min_size: int = 1, attempts: int = 100) -> list[np.ndarray]:
    """Each class's examples split among the clients in proportions ~ Dirichlet(alpha).

    Draws again (up to ``attempts`` times) until every client holds ``min_size`` examples.
    """
    if not alpha > 0:
        raise ConfigError(f"federated.alpha: the Dirichlet concentration must be > 0, got "
                          f"{alpha!r}")
    labels = np.asarray(labels)
    _check_clients(len(labels), clients)
    rng = np.random.default_rng([seed, 2])
    for _ in range(attempts):
        parts: list[list[int]] = [[] for _ in range(clients)]
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            shares = rng.dirichlet(np.full(clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * len(members)).astype(int)
            for k, chunk in enumerate(np.split(members, cuts)):
                parts[k].extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.sort(np.asarray(p, np.int64)) for p in parts]
    raise ConfigError(f"federated.alpha = {alpha}: in {attempts} draws some client always got "
                      f"fewer than {min_size} examples (batch size); raise alpha or lower "
                      f"federated.clients / training.batch_size")


def client_partitions(labels: np.ndarray, federated, seed: int,
                      min_size: int = 1) -> list[np.ndarray]:
    """The partition ``federated`` (a :class:`FederatedConfig`) asks for, one per client."""
    if federated.partition == "iid":
        parts = iid_partition(len(labels), federated.clients, seed)
        if min(len(p) for p in parts) < min_size:
            raise ConfigError(f"federated.clients = {federated.clients}: each client gets "
                              f"{min(len(p) for p in parts)} examples, fewer than "
                              f"training.batch_size = {min_size}")
        return parts
    return dirichlet_partition(labels, federated.clients, federated.alpha, seed,
                               min_size=min_size)


def _check_clients(n: int, clients: int) -> None:
    if clients < 1:
        raise ConfigError(f"federated.clients: a federation needs at least 1 client, got "
                          f"{clients}")
    if clients > n:
        raise ConfigError(f"federated.clients = {clients}: more clients than the {n} "
                          f"training examples")


def check_partitions(run) -> None:
    """Draw the partitions of a :class:`FederatedRun` once, before any process starts, so a
    split that cannot give every client a batch is a ConfigError here, not a failed round."""
    from qtnet.data import load_dataset

    labels = load_dataset(run.config.data).y_train
    client_partitions(labels, run.federated, run.config.training.seed,
                      min_size=run.config.training.batch_size)
