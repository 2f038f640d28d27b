"""Defect 7: the OpenAPI documents state what the servers enforce. Schemathesis fuzzes the
running ``keeneye server`` (without and with a token) with all of its checks (5xx, status
codes, response schemas, headers, negative and positive data, auth, Allow …) and must find
nothing. Checks and their two documented exceptions: ``schemathesis.toml`` beside this file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.hardening.conftest import keeneye_server

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
TOKEN = "fuzz-token-123"


def fuzz(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(CONFIG),
            "run",
            f"{url}/openapi.json",
            "--max-examples",
            "4",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "20261202",
            "--no-color",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=280,
    )


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.parametrize("token", [None, TOKEN])
def test_collector_matches_its_openapi_document(tmp_path: Path, token: str | None) -> None:
    args = ["--store", str(tmp_path / "k.duckdb")]
    extra: list[str] = []
    if token is not None:
        args += ["--token", token]
        extra = ["--header", f"Authorization: Bearer {token}"]
    with keeneye_server(*args, cwd=tmp_path) as (url, _):
        result = fuzz(url, *extra)
    tail = result.stdout[-6000:]
    assert result.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail.split("SUMMARY")[-1], tail
