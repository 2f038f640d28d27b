"""Real Prometheus and Alertmanager (Debian packages), installed once per session when missing."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

PACKAGES = {"promtool": "prometheus", "prometheus": "prometheus"}
AM_BINARIES = ("prometheus-alertmanager", "alertmanager")


def _missing() -> list[str]:
    wanted = [pkg for binary, pkg in PACKAGES.items() if shutil.which(binary) is None]
    if not any(shutil.which(b) for b in AM_BINARIES):
        wanted.append("prometheus-alertmanager")
    return sorted(set(wanted))


@pytest.fixture(scope="session")
def prometheus_tools() -> dict[str, str]:
    """Paths of promtool, prometheus and alertmanager; installs the Debian packages first
    when any is missing (root, as on CI and the dev machines)."""
    missing = _missing()
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=300)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
            timeout=600,
        )
    found = {
        "promtool": shutil.which("promtool"),
        "prometheus": shutil.which("prometheus"),
        "alertmanager": next((shutil.which(b) for b in AM_BINARIES if shutil.which(b)), None),
    }
    absent = [name for name, path in found.items() if path is None]
    assert not absent, f"still missing after apt-get install {missing}: {absent}"
    return {k: str(v) for k, v in found.items()}
