"""A model version's lineage on one page: where the model came from (URI, MLflow run), what it
was trained on (files, DVC revisions, MLflow datasets), its baseline and fitted reference, when
it was live, and the alerts raised meanwhile."""

from keeneye.lineage.build import build_lineage
from keeneye.lineage.model import AlertRaised, BaselineSummary, Lineage, LivePeriod

__all__ = ["AlertRaised", "BaselineSummary", "Lineage", "LivePeriod", "build_lineage"]
