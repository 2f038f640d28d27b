"""Defect 2: a full disk is a 503 with Retry-After and a degraded health, and the collector
recovers by itself once space is freed; every acknowledged event stays readable.

The store lives on a small tmpfs mounted for the test (the tests run as root here).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.hardening.conftest import keeneye_server

SIZE = "48m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def ids(body: dict[str, object]) -> list[str]:
    return [str(e["event_id"]) for e in body["events"]]  # type: ignore[attr-defined]


def batch(start: int, n: int = 200) -> dict[str, object]:
    # random text does not compress: the store grows with every batch
    return {
        "version": "1",
        "events": [
            {"event_id": f"e{start + i}", "inputs": {"x": float(i), "t": secrets.token_hex(400)}}
            for i in range(n)
        ],
    }


@pytest.mark.e2e
@pytest.mark.parametrize(
    "free_mb",
    [
        3,  # a COMMIT fails to write the WAL
        20,  # the WAL's checkpoint fails: DuckDB invalidates the database (reopened)
    ],
)
def test_full_disk_degrades_then_recovers_without_restart(
    small_disk: Path, tmp_path: Path, free_mb: int
) -> None:
    filler = small_disk / "filler"
    env = {"KEENEYE_SERVER__MIN_FREE_DISK_BYTES": str(64 * 1024**2)}
    with keeneye_server("--store", str(small_disk / "k.duckdb"), cwd=tmp_path, env=env) as (
        url,
        _,
    ):
        client = httpx.Client(base_url=url, timeout=30)
        assert client.get("/v1/health").json()["status"] == "ok"
        # leave ~3 MB free, then ingest until writes fail
        free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
        with filler.open("wb") as sink:
            sink.write(b"\0" * max(0, free - free_mb * 1024**2))
        acked: set[str] = set()
        pending: list[dict[str, object]] = []
        failure: httpx.Response | None = None
        for n in range(400):
            body = batch(n * 200)
            answer = client.post("/v1/models/m/predictions", json=body)
            if answer.status_code == 200:
                acked.update(ids(body))
                continue
            failure = answer
            pending.append(body)
            break
        assert failure is not None, "the disk never filled"
        assert failure.status_code == 503, failure.text
        assert failure.json()["error"]["code"] == "store_unavailable"
        assert int(failure.headers["Retry-After"]) > 0
        if free_mb > 16:  # past DuckDB's 16 MB WAL checkpoint threshold
            assert "checkpoint" in failure.json()["error"]["message"], failure.text
        # writes keep failing cleanly (503, never 500), and health tells the truth
        again = client.post("/v1/models/m/predictions", json=batch(10**6))
        assert again.status_code == 503, again.text
        pending.append(batch(10**6))
        health = client.get("/v1/health").json()
        assert health["status"] == "degraded", health
        assert "store writes are failing" in health["reasons"][0]
        assert health["warnings"] and "min_free_disk_bytes" in health["warnings"][0]
        assert client.get("/v1/health/ready").status_code == 503
        assert client.get("/v1/health/live").status_code == 200
        metrics = client.get("/metrics").text
        assert "keeneye_store_disk_free_bytes" in metrics
        assert "keeneye_store_writes_failing 1.0" in metrics

        filler.unlink()  # free the space: no restart
        for body in pending:  # the client retries what was not acknowledged
            answer = client.post("/v1/models/m/predictions", json=body)
            if answer.status_code == 503:  # at most one more: the store reopens itself
                answer = client.post("/v1/models/m/predictions", json=body)
            assert answer.status_code == 200, answer.text
            ack = answer.json()
            assert ack["stored"] + ack["duplicates"] == len(ids(body))
            acked.update(ids(body))
        assert client.get("/v1/health").json()["status"] == "ok"
        assert client.get("/v1/health/ready").status_code == 200
        # every acknowledged event is readable, and nothing else was stored
        assert client.get("/v1/models/m").json()["events"] == len(acked)
        later = client.post("/v1/models/m/predictions", json=batch(2 * 10**6))
        assert later.status_code == 200 and later.json()["stored"] == 200
