"""Baselines: the training data of a model version, kept as the reference that production
windows are compared with."""

from keeneye.baseline.register import (
    BaselineInfo,
    baseline_info,
    read_upload,
    register_baseline,
)
from keeneye.baseline.resolve import ReferenceChoice, choose_baseline

__all__ = [
    "BaselineInfo",
    "ReferenceChoice",
    "baseline_info",
    "choose_baseline",
    "read_upload",
    "register_baseline",
]
