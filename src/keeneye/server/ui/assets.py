"""The UI's static files: its own CSS and JS (package data) and plotly's JavaScript, taken from
the installed ``plotly`` package (extra ``reports``) so that the UI works offline, without a
CDN or a front-end build."""

from __future__ import annotations

import functools
import hashlib
from importlib import resources

from keeneye.errors import MissingExtraError

#: Files under ``static/`` served at ``/ui/static/<name>``, with their media types.
OWN_FILES: dict[str, str] = {
    "ui.css": "text/css; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
}
PLOTLY = "plotly.min.js"


@functools.cache
def own_file(name: str) -> bytes:
    """One of the UI's own static files (``KeyError`` for any other name)."""
    if name not in OWN_FILES:
        raise KeyError(name)
    return resources.files("keeneye.server.ui").joinpath("static", name).read_bytes()


@functools.cache
def plotly_js() -> bytes:
    """plotly's bundled JavaScript; :class:`MissingExtraError` when plotly is not installed."""
    try:
        import plotly
    except ImportError as exc:
        raise MissingExtraError("plotly", "reports") from exc
    bundled = resources.files(plotly).joinpath("package_data", PLOTLY)
    if bundled.is_file():
        return bundled.read_bytes()
    # Older layouts: ask plotly for the same bundle.
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs()).encode()


def plotly_available() -> bool:
    """Whether charts can be drawn (the ``reports`` extra is installed)."""
    try:
        plotly_js()
    except MissingExtraError:
        return False
    return True


@functools.cache
def fingerprint(name: str) -> str:
    """A short content hash for cache-busting links (``?v=…``)."""
    data = plotly_js() if name == PLOTLY else own_file(name)
    return hashlib.sha256(data).hexdigest()[:12]
