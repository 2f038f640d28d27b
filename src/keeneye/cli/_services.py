"""The "services" part of ``keeneye status``: collectors and workers alive on the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from keeneye.clock import utc_now

#: A process counts as alive when its heartbeat is at most this old.
ALIVE_SECONDS = 60.0


def from_store(location: str) -> list[dict[str, Any]]:
    """Live services read straight from a store (file or URL)."""
    from keeneye.store import open_store

    store = open_store(location)
    try:
        return [
            {
                "service": b.service,
                "owner": b.owner,
                "beat_at": b.beat_at.isoformat(),
                "info": dict(b.info),
            }
            for b in store.services(ALIVE_SECONDS)
        ]
    finally:
        store.close()


def from_server(url: str, token: str | None) -> list[dict[str, Any]]:
    """Live services as a running server reports them (none from a server without the API)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(
        f"{url.rstrip('/')}/v1/services",
        params={"within": ALIVE_SECONDS},
        headers=headers,
        timeout=5.0,
    )
    if response.status_code != 200:
        return []
    services: list[dict[str, Any]] = response.json()["services"]
    return services


def print_services(console: Console, services: list[dict[str, Any]]) -> None:
    """A table of the live services, or a line saying there are none."""
    if not services:
        console.print("no collectors or workers have sent a heartbeat in the last minute")
        return
    table = Table(title="services alive")
    for column in ("service", "process", "last beat", "details"):
        table.add_column(column)
    now = utc_now()
    for s in services:
        age = (now - datetime.fromisoformat(str(s["beat_at"]))).total_seconds()
        details = ", ".join(f"{k}={v}" for k, v in sorted(dict(s.get("info") or {}).items()))
        table.add_row(str(s["service"]), str(s["owner"]), f"{max(age, 0):.0f} s ago", details)
    console.print(table)
