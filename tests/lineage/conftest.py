"""The lineage tests reuse the real things of other suites: the MLflow tracking server of the
model-server tests and the headless Chromium (Playwright) of the UI tests."""

from tests.modelserver.conftest import mlflow_server, quiet_mlflow
from tests.ui.conftest import browser, playwright, watched

__all__ = ["browser", "mlflow_server", "playwright", "quiet_mlflow", "watched"]
