"""Grafana provisioning files: the Prometheus datasource and the dashboard provider, plus the
dashboards' JSON, written to one folder that mounts as Grafana's ``provisioning/`` and
dashboards directory.

>>> ds = datasource_config("http://127.0.0.1:9090")
>>> ds["datasources"][0]["uid"], ds["datasources"][0]["url"]
('keeneye-prometheus', 'http://127.0.0.1:9090')
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from keeneye.integrations.grafana.dashboards import (
    DATASOURCE_UID,
    fleet_dashboard,
    model_dashboard,
)
from keeneye.integrations.prometheus.options import ExportOptions

DEFAULT_DASHBOARDS_PATH = "/var/lib/grafana/dashboards/keeneye"


def datasource_config(prometheus_url: str, scrape_interval: str = "15s") -> dict[str, Any]:
    """``provisioning/datasources/keeneye.yml``: the Prometheus that scrapes keeneye."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus (keeneye)",
                "uid": DATASOURCE_UID,
                "type": "prometheus",
                "access": "proxy",
                "url": prometheus_url,
                "jsonData": {"timeInterval": scrape_interval},
                "editable": True,
            }
        ],
    }


def dashboard_provider(path: str = DEFAULT_DASHBOARDS_PATH) -> dict[str, Any]:
    """``provisioning/dashboards/keeneye.yml``: load keeneye's dashboards from ``path``."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "keeneye",
                "folder": "keeneye",
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "options": {"path": path},
            }
        ],
    }


def write_grafana_files(
    out: Path,
    options: ExportOptions,
    prometheus_url: str = "http://127.0.0.1:9090",
    dashboards_path: str = DEFAULT_DASHBOARDS_PATH,
) -> list[Path]:
    """Write ``provisioning/{datasources,dashboards}/keeneye.yml`` and ``dashboards/*.json``
    under ``out``; return the paths written."""
    files: dict[str, str] = {
        "provisioning/datasources/keeneye.yml": yaml.safe_dump(
            datasource_config(prometheus_url, options.scrape_interval), sort_keys=False
        ),
        "provisioning/dashboards/keeneye.yml": yaml.safe_dump(
            dashboard_provider(dashboards_path), sort_keys=False
        ),
        "dashboards/keeneye-fleet.json": json.dumps(fleet_dashboard(options), indent=2) + "\n",
        "dashboards/keeneye-model.json": json.dumps(model_dashboard(options), indent=2) + "\n",
    }
    written = []
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
