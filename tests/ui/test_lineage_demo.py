"""The lineage page over the demo's three weeks (each backend): reached from the model page's
version table, it shows when the first version was live and which version replaced it, and the
alerts the analysis raised while it was live, with no console errors."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from tests.ui.conftest import Demo, Watched

from keeneye.lineage.build import build_lineage


def test_lineage_page_of_the_replaced_version(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    first, then = demo.store.version_history(demo.model)[:2]
    expected = build_lineage(demo.store, demo.model, first.version, run_lookup=None)
    assert [(p.since, p.until, p.replaced_by) for p in expected.live] == [
        (first.live_since, then.live_since, then.version)
    ]
    assert expected.alerts, "the demo raises alerts while its first version serves"
    w = watched()
    w.open(f"{ui}/models/{quote(demo.model)}?range=21d")
    w.page.click(f"#versions-table tr[data-version='{first.version}'] a.lineage-link")
    w.page.wait_for_selector("#lineage-title")
    path = f"/models/{quote(demo.model)}/versions/{quote(first.version)}/lineage"
    assert w.page.url.endswith(path)
    assert w.page.inner_text("#live-table tbody tr td:nth-child(4)") == then.version
    assert w.page.locator("#lineage-alerts tbody tr").count() == len(expected.alerts)
    rules = w.page.locator("#lineage-alerts tbody td:nth-child(3)").all_inner_texts()
    assert sorted(rules) == sorted(a.rule for a in expected.alerts)
    assert w.page.locator("#sources-table tbody tr").count() == max(1, len(expected.data_sources))
    w.shot("lineage-demo")
    assert w.problems == []
