"""The collector's own Prometheus metrics, on the app's registry (served at ``/metrics``).

Other parts of keeneye (analysis results, alerts) register their collectors on the same
``app.state.registry``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServerMetrics:
    """Counters and histograms of ingestion; one instance per app."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "keeneye_ingested_events",
            "Prediction events durably stored, per model.",
            ["model"],
            registry=registry,
        )
        self.duplicates = Counter(
            "keeneye_ingested_duplicate_events",
            "Prediction events ignored because their event_id was already stored.",
            ["model"],
            registry=registry,
        )
        self.invalid_values = Counter(
            "keeneye_ingested_invalid_values",
            "Values stored as invalid markers (wrong type, unknown feature …), per feature.",
            ["model", "feature"],
            registry=registry,
        )
        self.labels = Counter(
            "keeneye_ingested_labels",
            "Labels durably stored, per model.",
            ["model"],
            registry=registry,
        )
        self.rejected = Counter(
            "keeneye_requests_rejected",
            "Requests answered with an error, by error code.",
            ["code"],
            registry=registry,
        )
        self.ingest_seconds = Histogram(
            "keeneye_ingest_request_duration_seconds",
            "Time to validate and durably store one ingestion request.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.store_write_seconds = Histogram(
            "keeneye_store_write_duration_seconds",
            "Time the store took to commit one batch.",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text exposition of the app's registry."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
