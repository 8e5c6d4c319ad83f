"""A client's local training in one round, built from the trainer's pieces: its partition of
the data, the configured model and optimiser (a fresh optimiser state per round, as FedAvg
has it), FedProx's proximal term, and DP-SGD with its accountant when ``privacy`` is on."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qtnet.data import load_dataset
from qtnet.federated.config import FederatedRun
from qtnet.federated.partition import client_partitions
from qtnet.privacy.dpsgd import dp_optimizer, per_example_cross_entropy
from qtnet.training import (Setup, batch_indices, build_setup, cross_entropy, fit,
                            make_train_step, new_state)


def params_to_arrays(params) -> list[np.ndarray]:
    """The parameter pytree's leaves in a fixed order (what goes on the wire)."""
    return [np.asarray(leaf) for leaf in jax.tree.leaves(params)]


def arrays_to_params(template, arrays: list[np.ndarray]):
    """The inverse of :func:`params_to_arrays`, checked against ``template``'s shapes."""
    leaves, treedef = jax.tree.flatten(template)
    if len(arrays) != len(leaves):
        raise ValueError(f"expected {len(leaves)} parameter arrays, got {len(arrays)}")
    for a, t in zip(arrays, leaves):
        if tuple(a.shape) != tuple(t.shape):
            raise ValueError(f"parameter array of shape {a.shape} where {t.shape} is expected")
    return jax.tree.unflatten(treedef, [jnp.asarray(a, t.dtype) for a, t in zip(arrays, leaves)])


def proximal_term(mu: float) -> optax.GradientTransformation:
    """FedProx: add ``mu * (w - w_global)`` to the gradient, ``w_global`` being the params the
    state was initialised with (each round starts a fresh state from the global model)."""
    def init(params):
        return {"anchor": params}

    def update(updates, state, params):
        return jax.tree.map(lambda u, w, a: u + mu * (w - a), updates, params,
                            state["anchor"]), state

    return optax.GradientTransformation(init, update)


@dataclasses.dataclass
class LocalTrainer:
    """Client ``client_id``'s data and compiled step; :meth:`train_round` runs one round."""

    run: FederatedRun
    client_id: int
    setup: Setup
    indices: np.ndarray            # this client's rows of the training split
    noise_multiplier: float | None
    # Compiled steps by proximal mu, kept across rounds of one process (without DP the
    # optimiser does not depend on the round; under DP its noise key does). The clients of one
    # run in one process may share the dict: their model and optimiser are the same.
    steps: dict = dataclasses.field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, run: FederatedRun, client_id: int, load_data=load_dataset,
              steps: dict | None = None) -> LocalTrainer:
        """Client ``client_id``'s trainer; ``load_data(config.data)`` gives the dataset (e.g.
        the run folder's copy, :func:`qtnet.federated.data_cache.cached_loader`); ``steps``,
        another client's :attr:`steps` of the same run, shares its compiled steps."""
        setup = build_setup(run.config, load_data)
        fed, t = run.federated, run.config.training
        if not 0 <= client_id < fed.clients:
            raise ValueError(f"client {client_id} does not exist: federated.clients = "
                             f"{fed.clients}")
        parts = client_partitions(setup.data.y_train, fed, t.seed, min_size=t.batch_size)
        indices = parts[client_id]
        noise = None
        if run.privacy.enabled:
            from qtnet.privacy import accountant     # dp_accounting: only a private run

            noise = run.privacy.noise_multiplier or accountant.noise_for_epsilon(
                run.privacy.target_epsilon, t.batch_size / len(indices),
                fed.rounds * fed.local_steps, run.privacy.delta)
        return cls(run, client_id, setup, indices, noise, {} if steps is None else steps)

    def _optimizer(self, key: jax.Array, mu: float) -> optax.GradientTransformation:
        tx = self.setup.tx
        if mu > 0:
            tx = optax.chain(proximal_term(mu), tx)
        if self.noise_multiplier is not None:
            tx = dp_optimizer(tx, self.run.privacy.clip_norm, self.noise_multiplier, key)
        return tx

    def epsilon_after(self, rounds: int) -> float | None:
        """The privacy spent on this client's data after ``rounds`` rounds (None: no DP)."""
        if self.noise_multiplier is None:
            return None
        from qtnet.privacy import accountant

        fed, t = self.run.federated, self.run.config.training
        return accountant.epsilon(self.noise_multiplier, t.batch_size / len(self.indices),
                                  rounds * fed.local_steps, self.run.privacy.delta)

    def batch(self, step: int) -> dict:
        """Local batch ``step`` (counted over all rounds): a pure function of the seed, the
        client and the step, like the trainer's."""
        t = self.run.config.training
        rows = self.indices[batch_indices(t.seed + 1 + self.client_id, step, t.batch_size,
                                          len(self.indices))]
        return {"x": jnp.asarray(self.setup.data.x_train[rows]),
                "y": jnp.asarray(self.setup.data.y_train[rows])}

    def train_round(self, params, server_round: int, mu: float = 0.0) -> tuple[object, dict]:
        """``local_steps`` steps from the global ``params``; returns the new params and the
        last step's metrics (plus ``epsilon`` under DP)."""
        fed, t = self.run.federated, self.run.config.training
        key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(t.seed), self.client_id),
                                 server_round)
        tx = self._optimizer(key, mu)
        step = None if self.noise_multiplier is not None else self.steps.get(mu)
        if step is None:
            objective = per_example_cross_entropy if self.noise_multiplier else cross_entropy
            step = make_train_step(self.setup.graphdef, tx, objective=objective)
            if self.noise_multiplier is None:
                self.steps[mu] = step
        start = (server_round - 1) * fed.local_steps
        state = new_state(params, tx, t.seed).replace(step=jnp.asarray(start, jnp.int32))
        last: dict = {}

        times: list[float] = []

        class Keep:
            def after_step(self, done, state, metrics, seconds):
                last.update(metrics)
                times.append(seconds)

        state = fit(step, state, self.batch, start=start, stop=start + fed.local_steps,
                    hooks=[Keep()])
        # The first step includes tracing and compiling (or reading XLA's cache).
        last["first_step_seconds"], last["other_steps_seconds"] = times[0], sum(times[1:])
        eps = self.epsilon_after(server_round)
        if eps is not None:
            last["epsilon"] = eps
            last["noise_multiplier"] = self.noise_multiplier
        return state.params, last
