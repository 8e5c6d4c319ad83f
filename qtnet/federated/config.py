"""A federated run's config: the ordinary training config (model, data, backend, optimiser,
...) plus a ``federated`` section (clients, rounds, partitions, strategy) and a ``privacy``
section (DP-SGD on every client), read from one YAML file."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import yaml

from qtnet.config import (RESUME_SENSITIVE, Config, ConfigError, field, from_dict, merge,
                          parse_overrides, read_yaml)
from qtnet.privacy.config import PrivacyConfig

PARTITIONS = ("iid", "dirichlet")
STRATEGIES = ("fedavg", "fedprox", "fedadam")
SERVER_SCHEDULES = ("constant", "cosine", "linear")
RUN_CONFIG_FILE = "federated.yaml"
# The federated settings a resume may change; every other one shaped the completed rounds.
RESUMABLE_KEYS = (("federated", "rounds"), ("federated", "round_timeout"),
                  ("federated", "straggler_timeout"), ("federated", "accept_failures"))


@dataclasses.dataclass(frozen=True)
class FederatedConfig:
    clients: int = field(2, help="clients (Flower SuperNodes), each holding one partition")
    rounds: int = field(3, min=1, help="federated rounds")
    local_steps: int = field(5, min=1, help="optimiser steps a client runs per round")
    fraction: float = field(1.0, help="fraction of the clients sampled each round, in (0, 1]")
    min_clients: int | None = field(None, help="clients sampled at least per round (default: "
                                               "all the fraction gives, at least 1)")
    partition: str = field("iid", choices=PARTITIONS,
                           help="iid, or dirichlet: per class, shares ~ Dirichlet(alpha)")
    alpha: float = field(0.5, help="Dirichlet concentration, > 0 (small: very non-IID)")
    strategy: str = field("fedavg", choices=STRATEGIES,
                          help="fedavg; fedprox (a proximal term on every client); fedadam "
                               "(the server applies Adam to the averaged update, Reddi et "
                               "al. 2021)")
    proximal_mu: float = field(0.01, min=0.0, help="fedprox: weight of the proximal term")
    server_learning_rate: float = field(0.1, help="fedadam: the server's Adam step size, > 0")
    server_tau: float = field(1e-3, help="fedadam: added to sqrt(v) (adaptivity), > 0")
    server_schedule: str = field("constant", choices=SERVER_SCHEDULES,
                                 help="fedadam: the server step over the rounds, decayed from "
                                      "server_learning_rate as schedule.type decays a "
                                      "trainer's learning rate over its steps")
    server_end_factor: float = field(0.0, min=0.0, max=1.0,
                                     help="fedadam, cosine / linear: final server step / "
                                          "server_learning_rate")
    bits: int = field(32, min=1, help="bits per parameter sent up and down (metering)")
    round_timeout: float = field(600.0, help="seconds the server waits for a round's replies; "
                                             "then it aggregates those that came")
    straggler_timeout: float | None = field(
        None, help="once a round's first update came, seconds the server waits for the other "
                   "sampled clients' (at most until round_timeout); null: until round_timeout")
    accept_failures: bool = field(True, help="a round in which a sampled client failed or did "
                                             "not reply in time: aggregate the others (true) "
                                             "or stop the run there (false)")

    def validate(self) -> None:
        if not self.clients >= 1:
            raise ConfigError(f"federated.clients: a federation needs at least 1 client, got "
                              f"{self.clients!r}")
        if not 0 < self.fraction <= 1:
            raise ConfigError(f"federated.fraction: expected a value in (0, 1], got "
                              f"{self.fraction!r}")
        if self.min_clients is not None and not 1 <= self.min_clients <= self.clients:
            raise ConfigError(f"federated.min_clients: cannot sample {self.min_clients} "
                              f"clients per round out of federated.clients = {self.clients}; "
                              f"expected 1 .. {self.clients}")
        if not self.alpha > 0:
            raise ConfigError(f"federated.alpha: the Dirichlet concentration must be > 0, got "
                              f"{self.alpha!r}")
        for key in ("server_learning_rate", "server_tau"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"federated.{key}: expected a value > 0, got "
                                  f"{getattr(self, key)!r}")
        if self.straggler_timeout is not None and not self.straggler_timeout > 0:
            raise ConfigError(f"federated.straggler_timeout: expected a value > 0 or null, got "
                              f"{self.straggler_timeout!r}")
        if self.server_schedule != "constant" and self.strategy != "fedadam":
            raise ConfigError(f"federated.server_schedule: {self.server_schedule!r} schedules "
                              f"FedAdam's server step, but federated.strategy is "
                              f"{self.strategy!r}, which has none; use constant or fedadam")
        if not self.round_timeout > 0:
            raise ConfigError(f"federated.round_timeout: expected a value > 0, got "
                              f"{self.round_timeout!r}")

    def server_step(self, server_round: int) -> float:
        """FedAdam's server step in round ``server_round`` (1, 2, ...): ``server_schedule``
        over ``rounds`` as optax's schedules over a trainer's steps (round r is update
        r - 1), so a run and its centralised counterpart decay alike."""
        lr, done = self.server_learning_rate, min(server_round - 1, self.rounds)
        end = self.server_end_factor
        if self.server_schedule == "cosine":
            return lr * ((1 - end) * 0.5 * (1 + math.cos(math.pi * done / self.rounds)) + end)
        if self.server_schedule == "linear":
            return lr * (1 + (end - 1) * done / self.rounds)
        return lr

    @property
    def sampled_per_round(self) -> int:
        """Clients each round trains: ``fraction * clients`` (at least ``min_clients``)."""
        return max(int(self.fraction * self.clients), self.min_clients or 1)


@dataclasses.dataclass(frozen=True)
class FederatedRun:
    """Everything a federated run reads: the training config and the two sections."""

    config: Config
    federated: FederatedConfig
    privacy: PrivacyConfig

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self.config),
                "federated": dataclasses.asdict(self.federated),
                "privacy": dataclasses.asdict(self.privacy)}


def run_from_dict(data: dict) -> FederatedRun:
    """Build and validate a run from a mapping (the YAML file's, merged with overrides)."""
    data = dict(data)
    federated = from_dict(FederatedConfig, data.pop("federated", None), "federated.")
    privacy = from_dict(PrivacyConfig, data.pop("privacy", None), "privacy.")
    config = from_dict(Config, data)
    if config.schedule.type != "constant":
        raise ConfigError(f"schedule.type: {config.schedule.type!r} is laid out over "
                          f"training.steps, but a federated client starts a fresh optimiser "
                          f"every round (the schedule would restart each round); use constant")
    if privacy.enabled and config.optimizer.grad_clip is not None:
        raise ConfigError("optimizer.grad_clip: DP-SGD clips each example's gradient "
                          "(privacy.clip_norm); leave optimizer.grad_clip null")
    return FederatedRun(config, federated, privacy)


def load_run(path: str | Path | None = None, overrides: list[str] | None = None) -> FederatedRun:
    """Defaults, then the YAML file, then ``--set`` overrides (``federated.rounds=3``)."""
    data = read_yaml(path) if path is not None else {}
    return run_from_dict(merge(data, parse_overrides(overrides), Config))


def dump_run(run: FederatedRun, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(run.to_dict(), sort_keys=False))


def read_run(workdir: str | Path) -> FederatedRun:
    """The resolved run config a federated run folder holds (what the Flower apps read)."""
    path = Path(workdir) / RUN_CONFIG_FILE
    return run_from_dict(read_yaml(path))


def check_resume(workdir: str | Path, run: FederatedRun) -> None:
    """Refuse to resume a run folder whose completed rounds were trained with other settings.

    The trainer's resume-sensitive settings (model, data, backend, optimiser, schedule,
    estimator, training seed and batch size) and every ``federated`` and ``privacy`` key but
    those of :data:`RESUMABLE_KEYS` must match the stored run; so must ``federated.rounds``
    when DP-SGD calibrates its noise to a target epsilon over the rounds, or the server's
    step decays over them (``federated.server_schedule``).

    Raises:
      ConfigError: naming the first differing key, its stored and its new value.
    """
    from qtnet.training.run_folder import RESUME_SENSITIVE_KEYS

    workdir = Path(workdir)
    checkpoints = workdir / "checkpoints"
    if not (checkpoints.is_dir() and any(checkpoints.iterdir())
            and (workdir / RUN_CONFIG_FILE).is_file()):
        return
    stored, current = read_run(workdir).to_dict(), run.to_dict()
    resumable = set(RESUMABLE_KEYS)
    # The calibrated noise and a decaying server step are laid out over the rounds.
    if ((run.privacy.enabled and run.privacy.target_epsilon is not None)
            or run.federated.server_schedule != "constant"):
        resumable.discard(("federated", "rounds"))
    keys = [*((sec, key) for sec in (*RESUME_SENSITIVE, "federated", "privacy")
              for key in current[sec]), *RESUME_SENSITIVE_KEYS]
    may_change = ", ".join(f"{sec}.{key}" for sec, key in RESUMABLE_KEYS
                           if (sec, key) in resumable)
    for sec, key in keys:
        if (sec, key) not in resumable and stored[sec].get(key) != current[sec][key]:
            raise ConfigError(
                f"{workdir} holds a federated run with {sec}.{key}={stored[sec].get(key)!r}, "
                f"this config has {current[sec][key]!r}; its completed rounds were trained with "
                f"the stored value: use another --workdir, or resume with the stored settings "
                f"(a resume may change only {may_change})")
