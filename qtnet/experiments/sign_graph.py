"""The paper's graph-classification protocol for SIGN (Table 2): 10-fold stratified CV
(shuffled, random_state 0), the held-out fold as validation (GIN protocol), Adam with coupled
L2 weight decay, learning rate x0.5 every 50 epochs, 350 epochs.

The reported figure follows GIN: the test-fold accuracy curve is averaged over folds, and the
epoch where that mean peaks gives mean +- std over folds. The last epoch's figure is returned
too. One epoch is a single compiled ``lax.scan`` over its batches, run as one step of the
trainer's loop (:func:`qtnet.training.fit.fit`); the optimiser comes from the trainer's
builder. The step itself is this module's: it carries BatchNorm statistics beside the
parameters and scans an epoch of packed, padded graph batches.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from sklearn.model_selection import StratifiedKFold

from qtnet.config import field, load, section
from qtnet.data.features import GraphHops, graph_hop_features
from qtnet.data.types import GraphDataset
from qtnet.models.sign import INITS
from qtnet.models.sign_graph import NORMS, SIGNGraph
from qtnet.training.fit import Every, fit
from qtnet.training.optim import make_optimizer, step_decay_schedule


@dataclasses.dataclass(frozen=True)
class SignGraphSettings:
    """One Table 2 run (``configs/tu/<dataset>.yaml`` hold the paper's values)."""

    dataset: str = field("MUTAG", help="folder name of a GIN-format dataset")
    hidden: int = field(64, min=1)
    norm: str = field("batch", choices=NORMS)
    hops: GraphHops = section(GraphHops)
    dropout: float = field(0.0, min=0.0, max=1.0)
    batch_size: int = field(32, min=1)
    learning_rate: float = field(1e-3, min=0.0)
    weight_decay: float = field(0.0, min=0.0, help="torch-style (coupled) L2")
    degree_features: bool = field(False, help="one-hot degrees instead of node tags")
    epochs: int = field(350, min=1)
    decay_every: int = field(50, min=1, help="epochs between learning-rate halvings")
    folds: int = field(10, min=2)
    hidden_times_blocks: bool = field(
        False, help="hidden width hidden x blocks (1 + all hops), as the authors' "
                    "sign_graph_pred.py builds it (1344 for MUTAG); false: hidden")
    init: str = field("lecun", choices=INITS,
                      help="lecun (flax's Linear) or torch (U(+-1/sqrt(fan_in)) weights and "
                           "biases, the authors')")

    @property
    def width(self) -> int:
        """The hidden layer's width."""
        return self.hidden * self.hops.blocks if self.hidden_times_blocks else self.hidden


def load_settings(path, overrides: list[str] | None = None) -> SignGraphSettings:
    """Settings from a YAML file plus ``key=value`` overrides (errors: ConfigError)."""
    return load(SignGraphSettings, path, overrides)


PAPER_TABLE2 = {"MUTAG": (92.0, 6.5), "PTC": (68.0, 8.1), "NCI1": (77.2, 1.4),
                "PROTEINS": (76.7, 4.6), "COLLAB": (81.8, 1.4), "IMDBBINARY": (76.0, 2.5),
                "IMDBMULTI": (53.1, 2.8), "REDDITBINARY": (78.9, 2.7)}


@dataclasses.dataclass(frozen=True)
class PackedGraphs:
    """Every node's features (plus one zero row that padding points at) and each graph's
    contiguous node range."""

    features: np.ndarray        # [n_nodes + 1, F]
    start: np.ndarray           # [n_graphs] first node of each graph
    size: np.ndarray            # [n_graphs]
    labels: np.ndarray          # [n_graphs]

    @property
    def pad_row(self) -> int:
        return len(self.features) - 1


def pack(dataset: GraphDataset, hops: GraphHops, degree_features: bool) -> PackedGraphs:
    x, graph_of_node = graph_hop_features(dataset, hops, degree_features=degree_features)
    size = np.bincount(graph_of_node, minlength=len(dataset.graphs))
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    return PackedGraphs(np.concatenate([x, np.zeros((1, x.shape[1]), x.dtype)]), start, size,
                        dataset.labels)


def _bucket(m: int) -> int:
    """Round a node count up so that an epoch's padded shape takes few distinct values."""
    step = max(64, 1 << max(0, m.bit_length() - 3))
    return -(-m // step) * step


def batch_arrays(packed: PackedGraphs, graphs: np.ndarray, n_nodes: int | None = None):
    """``graphs [B, G]`` (graph ids, -1 = empty slot) -> ``nodes [B, M]`` (rows of
    ``features``), ``segment [B, M]`` (slot of each node's graph), ``mask [B, M]``."""
    counts = np.where(graphs >= 0, packed.size[np.maximum(graphs, 0)], 0)
    m = n_nodes or _bucket(int(counts.sum(1).max()))
    nodes = np.full((len(graphs), m), packed.pad_row, np.int32)
    segment = np.zeros((len(graphs), m), np.int32)
    for b in range(len(graphs)):
        ids = graphs[b][graphs[b] >= 0]
        rows = np.concatenate([np.arange(packed.start[g], packed.start[g] + packed.size[g])
                               for g in ids]) if len(ids) else np.zeros(0, int)
        nodes[b, :len(rows)] = rows
        segment[b, :len(rows)] = np.repeat(np.arange(len(ids)), packed.size[ids])
    return nodes, segment, nodes != packed.pad_row


def cv_folds(labels: np.ndarray, folds: int, seed: int = 0):
    """The paper's folds: ``StratifiedKFold(folds, shuffle=True, random_state=seed)``."""
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(
        np.zeros(len(labels)), labels))


def optimizer(s: SignGraphSettings, steps_per_epoch: int) -> optax.GradientTransformation:
    """Adam with torch's coupled L2 (``Adam(weight_decay=wd)``), the learning rate halved
    every ``decay_every`` epochs."""
    lr = step_decay_schedule(s.learning_rate, s.decay_every * steps_per_epoch, 0.5)
    return make_optimizer("adam", lr, weight_decay=s.weight_decay)


def make_model(s: SignGraphSettings, n_features: int, n_classes: int, seed: int) -> SIGNGraph:
    """The graph model of these settings (hidden width :attr:`SignGraphSettings.width`)."""
    return SIGNGraph(n_features, n_classes, hidden=s.width, norm=s.norm, dropout=s.dropout,
                     init=s.init, rngs=nnx.Rngs(params=seed))


def train_fold(packed: PackedGraphs, train_idx: np.ndarray, test_idx: np.ndarray,
               s: SignGraphSettings, seed: int, n_classes: int, *, log=None) -> np.ndarray:
    """Train on one fold; return the held-out accuracy after every epoch ``[epochs]``."""
    model = make_model(s, packed.features.shape[1], n_classes, seed)
    graphdef, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    params, stats = nnx.to_pure_dict(params), nnx.to_pure_dict(stats)
    n_batches = math.ceil(len(train_idx) / s.batch_size)
    tx = optimizer(s, n_batches)
    opt_state = tx.init(params)
    features = jnp.asarray(packed.features)
    labels = jnp.asarray(packed.labels)
    bs = s.batch_size

    def loss_fn(params, stats, features, nodes, segment, mask, graphs, key):
        model = nnx.merge(graphdef, params, stats)
        logits = model(features[nodes], segment, mask, bs, train=True, key=key)
        valid = graphs >= 0
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels[graphs])  # [B]
        loss = jnp.sum(jnp.where(valid, ce, 0.0)) / jnp.sum(valid)
        return loss, nnx.to_pure_dict(nnx.state(model, nnx.BatchStat))

    def batch_step(carry, batch):
        params, stats, opt_state, features = carry
        grads, stats = jax.grad(loss_fn, has_aux=True)(params, stats, features, *batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), stats, opt_state, features), None

    # features are an argument, not a closed-over constant: a constant the size of
    # the dataset would be baked into every compiled program.
    @jax.jit
    def epoch(params, stats, opt_state, features, nodes, segment, mask, graphs, keys):
        carry, _ = jax.lax.scan(batch_step, (params, stats, opt_state, features),
                                (nodes, segment, mask, graphs, keys))
        return carry[:3]

    eval_nodes, eval_seg, eval_mask = batch_arrays(packed, test_idx[None])

    eval_nodes, eval_seg, eval_mask = (jnp.asarray(a[0]) for a in (eval_nodes, eval_seg,
                                                                    eval_mask))
    test_labels = jnp.asarray(packed.labels[test_idx])

    @jax.jit
    def accuracy(params, stats, features, nodes, segment, mask, y):
        model = nnx.merge(graphdef, params, stats)
        logits = model(features[nodes], segment, mask, len(test_idx))
        return jnp.mean(jnp.argmax(logits, 1) == y)

    # Every epoch's batches up front, so one padded node count (the largest) serves all
    # epochs and the epoch is compiled once.
    rng = np.random.default_rng(seed)
    orders = np.full((s.epochs, n_batches * bs), -1)
    for e in range(s.epochs):
        orders[e, :len(train_idx)] = rng.permutation(train_idx)
    orders = orders.reshape(s.epochs, n_batches, bs)
    per_batch = np.where(orders >= 0, packed.size[np.maximum(orders, 0)], 0).sum(2)
    n_nodes = _bucket(int(per_batch.max()))
    key = jax.random.PRNGKey(seed)

    def epoch_batches(e: int):
        """Epoch ``e``'s batches ``(nodes, segment, mask, graphs, dropout keys)``."""
        nodes, segment, mask = batch_arrays(packed, orders[e], n_nodes)
        return (nodes, segment, mask, orders[e],
                jax.random.split(jax.random.fold_in(key, e), n_batches))

    def run_epoch(state, batches):
        return epoch(*state, features, *batches), {}

    curve = np.zeros(s.epochs)

    def held_out(done, state):
        curve[done - 1] = float(accuracy(*state[:2], features, eval_nodes, eval_seg, eval_mask,
                                         test_labels))
        if log is not None:
            log(done - 1, curve[done - 1])

    # The trainer's loop, one step per epoch: the state is (params, batch stats, optimiser).
    fit(run_epoch, (params, stats, opt_state), epoch_batches, start=0, stop=s.epochs,
        hooks=[Every(1, held_out)])
    return curve


def cross_validate(dataset: GraphDataset, s: SignGraphSettings, *, folds=None, seed: int = 0,
                   log=None) -> dict:
    """Run the folds (all by default); return per-fold curves and the GIN-protocol figure."""
    packed = pack(dataset, s.hops, s.degree_features)
    splits = cv_folds(packed.labels, s.folds, seed)
    chosen = range(s.folds) if folds is None else folds
    curves = np.stack([train_fold(packed, splits[f][0], splits[f][1], s, seed + f,
                                  dataset.n_classes, log=log) for f in chosen])
    best = int(np.argmax(curves.mean(0)))
    return {"curves": curves, "best_epoch": best + 1,
            "accuracy": float(curves[:, best].mean()), "std": float(curves[:, best].std()),
            "last_accuracy": float(curves[:, -1].mean()), "last_std": float(curves[:, -1].std())}
