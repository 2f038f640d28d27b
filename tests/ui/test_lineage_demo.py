"""The lineage page over the demo's three weeks (each backend): reached from the model page's
version table, it lists the live periods from the live-version history and the alerts the
analysis raised while the version was live, with no console errors."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from tests.ui.conftest import Demo, Watched

from keeneye.lineage.build import build_lineage


def test_lineage_page_of_the_live_version(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    live = demo.store.model_summary(demo.model).live_version
    assert live is not None
    expected = build_lineage(demo.store, demo.model, live, run_lookup=None)
    assert expected.alerts, "the demo raises alerts while its live version serves"
    w = watched()
    w.open(f"{ui}/models/{quote(demo.model)}?range=21d")
    w.page.click("#versions-table tr.live a.lineage-link")
    w.page.wait_for_selector("#lineage-title")
    assert w.page.url.endswith(f"/models/{quote(demo.model)}/versions/{quote(live)}/lineage")
    assert w.page.locator("#live-table tbody tr").count() == len(expected.live)
    assert w.page.locator("#lineage-alerts tbody tr").count() == len(expected.alerts)
    rules = w.page.locator("#lineage-alerts tbody td:nth-child(3)").all_inner_texts()
    assert sorted(rules) == sorted(a.rule for a in expected.alerts)
    assert w.page.locator("#sources-table tbody tr").count() == max(1, len(expected.data_sources))
    w.shot("lineage-demo")
    assert w.problems == []
