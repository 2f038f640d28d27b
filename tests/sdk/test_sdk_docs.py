"""The quick start of docs/sdk.md runs as written against a real collector."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def test_quick_start_runs(collector: Any) -> None:
    snippet = re.search(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert snippet is not None
    code = snippet.group(1)
    assert 'url="http://127.0.0.1:8765"' in code
    namespace: dict[str, Any] = {}
    exec(compile(code.replace("http://127.0.0.1:8765", collector.url), str(DOC), "exec"), namespace)
    assert namespace["score"] == 0.3 + 0.01 * 12
    summary = namespace["monitor"].stats()
    assert summary["sent"] == 2 and summary["pending"] == 0
    rows = collector.store.model_summary("churn")
    assert rows.events == 1 and rows.labels == 1 and rows.live_version == "3"
