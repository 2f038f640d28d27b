"""The services sharing this server's store: the collector's own heartbeat and
``GET /v1/services`` (collectors and workers whose heartbeat is recent), which ``keeneye status``
shows."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel

from keeneye.server.auth import require_token

log = logging.getLogger("keeneye.server")

router = APIRouter(prefix="/v1", tags=["services"], dependencies=[Depends(require_token)])

#: Seconds between two heartbeats of a collector.
HEARTBEAT_SECONDS = 10.0


class ServiceOut(BaseModel):
    """One live process on the store."""

    service: str
    owner: str
    started_at: datetime
    beat_at: datetime
    info: dict[str, object]


class ServicesOut(BaseModel):
    services: list[ServiceOut]


@router.get(
    "/services",
    response_model=ServicesOut,
    summary="Collectors and workers alive on this store",
)
def list_services(
    request: Request,
    within: float = Query(
        60.0, gt=0, le=10 * 365 * 86400, description="Seconds since the last heartbeat."
    ),
) -> ServicesOut:
    """Processes (``collector``, ``worker-stats``, ``worker-drift``) whose last heartbeat in
    the shared store is at most ``within`` seconds old."""
    beats = request.app.state.store.services(within)
    return ServicesOut(
        services=[
            ServiceOut(
                service=b.service,
                owner=b.owner,
                started_at=b.started_at,
                beat_at=b.beat_at,
                info=dict(b.info),
            )
            for b in beats
        ]
    )


def setup(app: FastAPI) -> None:
    """Beat the collector's heartbeat while the app runs (started by the app's lifespan)."""
    stop = threading.Event()
    owner = f"collector@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    app.state.service_owner = owner

    def beat() -> None:
        while not stop.is_set():
            try:
                analysis = "on" if app.state.settings.analysis.enabled else "off"
                app.state.store.heartbeat("collector", owner, {"analysis": analysis})
            except Exception:  # a store fault must not stop the collector
                log.warning("collector heartbeat failed", exc_info=True)
            stop.wait(HEARTBEAT_SECONDS)

    thread = threading.Thread(target=beat, name="keeneye-heartbeat", daemon=True)

    def start() -> None:
        stop.clear()
        thread.start()

    def end() -> None:
        stop.set()
        thread.join(5)

    app.state.on_startup.append(start)
    app.state.on_shutdown.insert(0, end)
