"""From a config to what a run needs: data, model, optimiser, initial state, batches, eval.

The trainer's only reads of the dataset and model sections, and its only uses of the dataset
module, are here.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from qtnet.config import Config, ConfigError
from qtnet.models import build_model
from qtnet.data import Dataset, load_dataset
from qtnet.training.batches import batch_indices
from qtnet.training.checkpoint import Checkpoints
from qtnet.training.run_folder import CONFIG_FILE, RunFolderError, stored_config
from qtnet.training.optim import build_optimizer, learning_rate_schedule
from qtnet.training.shots import check_shot_training, shot_cross_entropy
from qtnet.training.steps import cross_entropy, init_state, make_eval_step, make_train_step


@dataclasses.dataclass
class Setup:
    """A run's data, model definition, optimiser and initial state (not yet compiled)."""

    config: Config
    data: Dataset
    graphdef: object
    state: object                # the initial TrainState; also the template of a restore
    tx: optax.GradientTransformation
    schedule: optax.Schedule
    comm_per_step: dict          # communication one training step costs (empty: not metered)

    def model(self, params=None) -> nnx.Module:
        """The model with ``params`` (default: the initial ones)."""
        return nnx.merge(self.graphdef, self.state.params if params is None else params)

    def batch(self, step: int) -> dict:
        """The training batch of ``step``: a pure function of (seed, step)."""
        t = self.config.training
        idx = batch_indices(t.seed, step, t.batch_size, len(self.data.y_train))
        return {"x": jnp.asarray(self.data.x_train[idx]),
                "y": jnp.asarray(self.data.y_train[idx])}

    @property
    def has_val(self) -> bool:
        return self.data.y_val is not None


def _set_precision(config: Config) -> None:
    if config.needs_x64:
        jax.config.update("jax_enable_x64", True)


def check_against_data(config: Config, data: Dataset) -> None:
    """Settings that only the data can rule out, checked before anything is built."""
    n_train = len(data.y_train)
    if config.training.batch_size > n_train:
        raise ConfigError(f"training.batch_size: {config.training.batch_size} is larger than "
                          f"the training split ({n_train} samples of {data.name}); use at "
                          f"most {n_train}")


def build_setup(config: Config, load_data=load_dataset) -> Setup:
    """Load the data (``load_data(config.data)``) and build the model, optimiser and state
    from the config's seed."""
    _set_precision(config)
    data = load_data(config.data)
    check_against_data(config, data)
    model = build_model(config, data.sample_shape, data.n_classes,
                        nnx.Rngs(params=config.training.seed), data=data,
                        trained=trained_model)
    if config.estimator.shots is not None:
        check_shot_training(model, config)
    tx = build_optimizer(config)
    graphdef, state = init_state(model, tx, config.training.seed)
    state = place_state(model, state, tx)
    return Setup(config, data, graphdef, state, tx, learning_rate_schedule(config),
                 _comm_per_step(config, model))


def trained_model(workdir, step: int | None = None) -> nnx.Module:
    """The model of a finished (or checkpointed) run, read back from its run folder: its
    stored config rebuilds the model, the newest (or ``step``'s) checkpoint fills it.

    Raises:
      ConfigError: naming the path, when there is no run or no checkpoint there, or the
        checkpoint does not fit the model its config describes.
    """
    workdir = Path(workdir)
    if not (workdir / CONFIG_FILE).is_file():
        raise ConfigError(f"no trained run in {workdir}: {workdir / CONFIG_FILE} not found")
    setup = build_setup(stored_config(workdir))
    if not (workdir / "checkpoints").is_dir():
        raise ConfigError(f"no checkpoints in {workdir}: {workdir / 'checkpoints'} not found")
    ckpt = Checkpoints(workdir / "checkpoints", setup.config.checkpoint, read_only=True)
    try:
        restored = ckpt.restore(setup.state, step)
    except RunFolderError as err:
        raise ConfigError(f"the checkpoint in {workdir / 'checkpoints'} cannot be used: "
                          f"{err}") from None
    finally:
        ckpt.close()
    if restored is None:
        raise ConfigError(f"no readable checkpoint in {workdir / 'checkpoints'}")
    return setup.model(restored[1].params)


def place_state(model, state, tx: optax.GradientTransformation):
    """Commit the state to its devices, as a restored state is (a resume then reuses the
    compiled steps: jit keys its cache on committed-ness). One device, unless the model
    spreads its parameters (``model.param_shardings(params)``, e.g. the split-learning
    chain: party p's angles on device p); then the optimiser state follows the parameters
    and the rest is replicated over the same devices."""
    shardings = (model.param_shardings(state.params) if hasattr(model, "param_shardings")
                 else None)
    if shardings is None:
        return jax.device_put(state, jax.devices()[0])
    params = jax.device_put(state.params, shardings)
    mesh = jax.tree.leaves(shardings)[0].mesh
    replicated = NamedSharding(mesh, PartitionSpec())

    def on_mesh(leaf):      # moments follow their parameter; counters are replicated
        same = leaf.sharding.device_set == set(mesh.devices.flat)
        return leaf if same else jax.device_put(leaf, replicated)

    opt_state = jax.tree.map(on_mesh, jax.jit(tx.init)(params))
    return state.replace(step=jax.device_put(state.step, replicated), params=params,
                         opt_state=opt_state, rng=jax.device_put(state.rng, replicated))


def _comm_per_step(config: Config, model) -> dict:
    """Quantum qubits and classical bits one step costs: every sample of the batch needs its
    own copies for the loss and the gradient; and ``flops_forward_<party>``, the FLOPs of
    each party's contractions in the simulated forward pass over the batch, priced on the
    model's backend, bond cap and dtype (``model.run_options()``; reverse mode adds a few
    times that, not counted); for a model whose parties sit on devices
    (``model.handoff_bytes(batch)``), ``device_bytes``: the bytes its hand-offs move between
    devices, forward and back. Bookkeeping only; nothing runs."""
    m = config.metering
    batch = config.training.batch_size
    if m.enabled and hasattr(model, "ledger"):         # a circuit that is not a protocol
        from qtnet.comm.deep_ledger import per_step_flops

        records, handoff = model.ledger(batch, m.bits)
        out = {"quantum_qubits": batch * handoff["quantum_qubits"],
               "classical_bits": batch * handoff["classical_bits"],
               "classical_mps_bits": batch * handoff["classical_mps_bits"]}
        out.update({f"flops_forward_{party}": flops
                    for party, flops in per_step_flops(records).items()})
        return out
    if not m.enabled or not hasattr(model, "protocol"):
        return {}
    from qtnet.comm import Estimator, meter

    run = model.run_options() if hasattr(model, "run_options") else {}
    moved = model.handoff_bytes(batch) if hasattr(model, "handoff_bytes") else None
    report = meter(model.protocol(), Estimator(m.epsilon, m.delta, m.gradient, m.bits),
                   backend=run.get("backend", "mps"), max_bond=run.get("max_bond"),
                   dtype=run.get("dtype"), sim_bytes=moved)
    totals = report.totals()
    out = {"quantum_qubits": batch * totals["quantum_qubits"],
           "classical_bits": batch * totals["classical_bits"],
           "classical_mps_bits": batch * totals["classical_mps_bits"]}
    if moved is not None:       # a model on devices: forward hand-offs, and as many back
        out["device_bytes"] = 2 * totals["sim_bytes"]
    for party, p in report.per_party().items():
        out[f"flops_forward_{party}"] = batch * p["flops"]
    return out


class CompiledSteps:
    """Compiled ``(train_step, eval_step)`` pairs, one per distinct step-shaping config.

    Keep one (a :class:`~qtnet.training.loop.Trainer` holds one) and a resumed or repeated
    run in the same process reuses the compilation.
    """

    def __init__(self):
        self._steps: dict[str, tuple] = {}

    @staticmethod
    def key(config: Config) -> str:
        """What the steps depend on: model, data, backend, optimiser, schedule and, unless
        the schedule is constant, the steps it is laid out over."""
        steps = config.training.steps if config.schedule.type != "constant" else None
        sections = ("model", "data", "backend", "optimizer", "schedule", "estimator")
        return json.dumps([dataclasses.asdict(getattr(config, k)) for k in sections] + [steps],
                          sort_keys=True)

    def __call__(self, setup: Setup) -> tuple:
        key = self.key(setup.config)
        if key not in self._steps:
            shots = setup.config.estimator.shots
            objective = cross_entropy if shots is None else shot_cross_entropy(shots)
            self._steps[key] = (make_train_step(setup.graphdef, setup.tx, setup.schedule,
                                                objective=objective),
                                make_eval_step(setup.graphdef))
        return self._steps[key]

    def __len__(self) -> int:
        return len(self._steps)


def run_eval(eval_step, params, data: Dataset, batch_size: int, split: str = "test") -> dict:
    """Mean loss, accuracy and fidelity over a split (``test`` or ``val``), in fixed-shape
    padded batches."""
    x, y = (data.x_test, data.y_test) if split == "test" else (data.x_val, data.y_val)
    n = len(y)
    totals: dict[str, float] = {}
    for start in range(0, n, batch_size):
        idx = np.arange(start, start + batch_size)
        mask = idx < n
        idx = np.where(mask, idx, 0)
        sums = eval_step(params, {"x": jnp.asarray(x[idx]), "y": jnp.asarray(y[idx]),
                                  "mask": jnp.asarray(mask)})
        for k, v in jax.device_get(sums).items():
            totals[k] = totals.get(k, 0.0) + float(v)
    count = totals.pop("count")
    return {"loss": totals["loss"] / count, "accuracy": totals["correct"] / count,
            "fidelity": totals["fidelity"] / count}
