"""Hybrid transfer learning: a frozen classical feature extractor (a trained MLP, read from its
run folder) whose hidden-layer features are amplitude-encoded into a Figure 2 circuit head;
only the head trains.

The extractor's weights are held outside the parameter pytree (as constants of the jitted
step), so the optimiser never sees them and the run's checkpoints hold the head alone.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flax import nnx

from qtnet.config import BackendConfig, ConfigError, field
from qtnet.models.figure2 import Figure2Classifier
from qtnet.models.mlp import MLPClassifier
from qtnet.models.registry import register_model
from qtnet.parties.protocol import Protocol
from qtnet.tn.ansatz import ANSATZE
from qtnet.models.common import FixedState, check_ansatz_dtype, check_backend_in


class TransferClassifier(nnx.Module):
    """``x [batch, n_features]`` -> frozen ``extractor.features(x)`` -> circuit head.

    Args:
      extractor: the trained MLP (its weights are copied and frozen).
      head: a Figure 2 classifier over the extractor's ``hidden`` features.
    """

    def __init__(self, extractor: MLPClassifier, head: Figure2Classifier):
        graphdef, weights = nnx.split(extractor)
        self.extractor = FixedState((graphdef, weights))
        self.head = head

    def extractor_weights(self) -> nnx.State:
        """The frozen extractor's weights (what the checkpoint it came from holds)."""
        return self.extractor.value[1]

    def features(self, x):
        return nnx.merge(*self.extractor.value).features(x)

    def protocol(self) -> Protocol:
        """The head's two-party protocol (what the meter counts; the extractor is local)."""
        return self.head.protocol()

    def run_options(self) -> dict:
        return self.head.run_options()

    def __call__(self, x, key=None) -> dict:
        return self.head(self.features(x).astype(self.head.dtype), key)


@dataclasses.dataclass(frozen=True)
class TransferConfig:
    """``model`` section of hybrid transfer learning (``model.type: transfer``): the run
    folder of a trained MLP (``model.type: mlp``) and the Figure 2 head's keys; the head
    runs on ``backend``."""

    type: str = field("transfer", help="model name")
    extractor: str = field("", help="run folder of the trained MLP feature extractor")
    extractor_step: int | None = field(None, min=0,
                                       help="the extractor's checkpoint; null = newest")
    layers: int = field(2, min=1, max=64, help="L of the circuit head")
    depth: int = field(2, min=1, max=64, help="brickwork layers in each party's unitary")
    ansatz: str = field("ry_cz", choices=ANSATZE, help="ry_cz (real) or su4 (complex)")
    init_scale: float = field(0.1, min=0.0, help="std of the head's initial angles")

    def validate_backend(self, backend: BackendConfig) -> None:
        """The party protocol is metered on mps or dense; su4 gates need a complex dtype."""
        check_backend_in("transfer", backend, ("mps", "dense"))
        check_ansatz_dtype(self.ansatz, backend)


@register_model("transfer", TransferConfig)
def build_transfer(config: TransferConfig, *, sample_shape: tuple[int, ...], n_classes: int,
                   backend: BackendConfig, rngs: nnx.Rngs, trained) -> TransferClassifier:
    """The frozen extractor from ``model.extractor`` and a fresh circuit head on its features.

    Raises:
      ConfigError: naming the path, when the extractor's run folder or checkpoint is missing
        or does not fit, is not an MLP, or was trained on samples of another width.
    """
    if not config.extractor:
        raise ConfigError("model.extractor: give the run folder of the trained MLP "
                          "(train it first, e.g. python -m train --config "
                          "configs/mlp_digits.yaml --workdir runs/mlp_digits)")
    path = Path(config.extractor)
    extractor = trained(path, config.extractor_step)
    if not isinstance(extractor, MLPClassifier):
        raise ConfigError(f"model.extractor: {path} holds a {type(extractor).__name__}, not a "
                          f"trained MLP (model.type: mlp)")
    width = extractor.hidden.in_features
    if width != sample_shape[-1]:
        raise ConfigError(f"model.extractor: {path} was trained on samples of {width} "
                          f"features, this data has {sample_shape[-1]}")
    head = Figure2Classifier(extractor.hidden.out_features, n_classes, layers=config.layers,
                             depth=config.depth, ansatz=config.ansatz, backend=backend.type,
                             max_bond=backend.max_bond, cutoff=backend.cutoff,
                             dtype=backend.dtype, init_scale=config.init_scale, rngs=rngs)
    return TransferClassifier(extractor, head)
