"""Trainable models (Flax NNX): the paper's circuit models and classical baselines, by name."""

from qtnet.models.figure2 import Figure2Classifier, register_size
from qtnet.models.mlp import MLPClassifier
from qtnet.models.registry import available_models, build_model, register_model

__all__ = ["Figure2Classifier", "MLPClassifier", "available_models", "build_model",
           "register_model", "register_size"]
