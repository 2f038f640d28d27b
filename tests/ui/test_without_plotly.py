"""Without the ``reports`` extra (no plotly) the pages still render and say how to get charts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import Backend

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    sys.modules["plotly"] = None  # as if plotly were not installed: importing it fails
    import httpx
    from keeneye.config import Settings
    from keeneye.server.app import create_app
    from keeneye.store import open_store

    async def main():
        app = create_app(Settings(), open_store(sys.argv[1]))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
            page = await client.get("/")
            js = await client.get("/ui/static/plotly.min.js")
        print(json.dumps({"page": [page.status_code, page.text],
                          "js": [js.status_code, js.text]}))

    asyncio.run(main())
    """
)


def test_pages_render_without_plotly_and_name_the_extra(backend: Backend, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, backend.location(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    status, html = out["page"]
    assert status == 200
    assert "pip install 'keeneye[reports]'" in html
    assert "plotly.min.js" not in html  # no script tag that would fail to load
    assert 'id="no-models"' in html
    assert out["js"][0] == 404 and "keeneye[reports]" in out["js"][1]
