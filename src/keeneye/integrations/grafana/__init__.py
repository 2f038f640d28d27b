"""keeneye for Grafana: dashboards generated in code and the provisioning files that load them
(needs the ``grafana`` extra: ``pip install 'keeneye[grafana]'``)."""

from __future__ import annotations

from keeneye.integrations.grafana.dashboards import (
    dashboard_expressions,
    fleet_dashboard,
    model_dashboard,
)
from keeneye.integrations.grafana.provisioning import (
    dashboard_provider,
    datasource_config,
    write_grafana_files,
)

__all__ = [
    "dashboard_expressions",
    "dashboard_provider",
    "datasource_config",
    "fleet_dashboard",
    "model_dashboard",
    "write_grafana_files",
]
