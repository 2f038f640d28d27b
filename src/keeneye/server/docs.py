"""The API explorer at ``/docs``: Swagger UI 5 served by the app from the
``openapi-ui-bundles`` package, so it works on a closed network (FastAPI's default loads it
from a CDN)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

#: Where the Swagger UI assets are served.
ASSETS = "/docs/assets"


def install(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI over ``/openapi.json``) and its assets from this process."""
    from openapi_ui_bundles import swagger_ui

    app.mount(ASSETS, StaticFiles(directory=swagger_ui.static_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )
