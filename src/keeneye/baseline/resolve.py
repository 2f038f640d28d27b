"""Which reference a model version's windows are compared with."""

from __future__ import annotations

from dataclasses import dataclass

from keeneye.baseline.register import baseline_info
from keeneye.config import AnalysisSettings
from keeneye.store.base import EventStore


@dataclass(frozen=True)
class ReferenceChoice:
    """The reference of one model version: a registered baseline (``version`` names whose)
    or the same window a week earlier (``rolling``)."""

    kind: str  # "baseline" | "rolling"
    version: str | None
    reason: str


def choose_baseline(
    store: EventStore, model: str, version: str, settings: AnalysisSettings
) -> ReferenceChoice | None:
    """The reference for ``model`` version ``version``, in this order: a rolling reference
    when the model is listed in ``analysis.rolling_reference``; the version configured in
    ``analysis.baseline_versions``; the version's own baseline; the live version's baseline.
    ``None`` when there is none (drift is then not computed for that version)."""
    if model in settings.rolling_reference:
        return ReferenceChoice("rolling", None, "same window a week earlier (configured)")
    configured = settings.baseline_versions.get(model)
    if configured is not None:
        return ReferenceChoice("baseline", configured, "configured in analysis.baseline_versions")
    if has_baseline(store, model, version):
        return ReferenceChoice("baseline", version, "the version's own training data")
    live = store.model_summary(model).live_version
    if live is not None and live != version and has_baseline(store, model, live):
        return ReferenceChoice("baseline", live, "the live version's training data")
    return None


def has_baseline(store: EventStore, model: str, version: str) -> bool:
    """Whether a baseline is stored (the small registration record first, the table if not)."""
    if baseline_info(store, model, version) is not None:
        return True
    return store.load_baseline(model, version) is not None
