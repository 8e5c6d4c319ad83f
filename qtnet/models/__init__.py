"""Trainable models (Flax NNX): the paper's circuit models and classical baselines, by name.

Importing this package registers every model (each beside its class)."""

from qtnet.models.chain import ChainClassifier, ChainConfig
from qtnet.models.deep_sign import DeepSign, DeepSignConfig
from qtnet.models.figure2 import Figure2Classifier, Figure2Config, register_size
from qtnet.models.mlp import MLPClassifier, MLPConfig
from qtnet.models.qcnn import QCNN, QCNNConfig
from qtnet.models.registry import available_models, build_model, register_model
from qtnet.models.sign import SIGN, SignConfig
from qtnet.models.transfer import TransferClassifier, TransferConfig

__all__ = ["SIGN", "ChainClassifier", "ChainConfig", "DeepSign", "DeepSignConfig",
           "Figure2Classifier", "Figure2Config", "MLPClassifier", "MLPConfig", "QCNN",
           "QCNNConfig", "SignConfig", "TransferClassifier", "TransferConfig",
           "available_models", "build_model", "register_model", "register_size"]
