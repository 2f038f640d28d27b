"""The collector's app factory.

>>> from keeneye.config import Settings
>>> from keeneye.store.duckdb import DuckDBStore
>>> app = create_app(Settings(), DuckDBStore(":memory:"))
>>> "/v1/models/{model}/predictions" in app.openapi()["paths"]
True

Extending: add a module to :data:`ROUTER_MODULES`. Each module defines ``router`` (an
``APIRouter``, or ``routers``, a list of them) and may define ``setup(app)`` — called once the
store, settings, registry and clock are on ``app.state`` — to register Prometheus collectors on
``app.state.registry`` or add start-up/shut-down work to ``app.state.on_startup`` /
``app.state.on_shutdown`` (lists of callables, run in order).
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from prometheus_client import CollectorRegistry

from keeneye import __version__
from keeneye.clock import ClockLike, as_clock
from keeneye.config import Settings
from keeneye.privacy.policy import policies
from keeneye.server.contract import refine
from keeneye.server.docs import install as install_docs
from keeneye.server.errors import install_error_handlers
from keeneye.server.health import install as install_health
from keeneye.server.limits import make_limits
from keeneye.server.metrics import ServerMetrics
from keeneye.server.schemas import DOCUMENTED_BODIES
from keeneye.store import open_store
from keeneye.store.base import EventStore

#: Modules whose ``router``/``routers`` (and optional ``setup(app)``) make up the app.
ROUTER_MODULES: list[str] = [
    "keeneye.server.model_routes",
    "keeneye.server.ingest_routes",
    "keeneye.server.metrics",
    "keeneye.server.analysis_routes",
    "keeneye.server.lineage_routes",
    "keeneye.server.analysis_jobs",
    "keeneye.server.ui.routes",
    "keeneye.server.service_routes",
    "keeneye.server.ui.search",
]


def create_app(
    settings: Settings,
    store: EventStore | None = None,
    *,
    clock: ClockLike | None = None,
    router_modules: Iterable[str] | None = None,
) -> FastAPI:
    """Build the collector app.

    ``store`` defaults to opening ``settings.server.store``; the app then closes it on
    shutdown (a store passed in belongs to the caller). ``clock`` gives receive times.
    """
    # Built first: a policy that cannot be applied (no secret) stops the start, before any
    # event could be stored raw.
    privacy = policies(settings.privacy)
    owns_store = store is None
    the_store: EventStore = store if store is not None else open_store(settings.server.store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in app.state.on_startup:
            await _maybe_await(hook())
        try:
            yield
        finally:
            for hook in app.state.on_shutdown:
                await _maybe_await(hook())
            if owns_store:
                the_store.close()

    app = FastAPI(
        title="keeneye",
        version=__version__,
        description="Collector and query API of keeneye: prediction events, labels, model "
        'versions. Errors always come as {"error": {"code", "message", "details"}}.',
        lifespan=lifespan,
        docs_url=None,  # served from the package's assets, not a CDN (keeneye.server.docs)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.privacy = privacy
    app.state.store = the_store
    app.state.clock = as_clock(clock)
    app.state.registry = CollectorRegistry()
    app.state.metrics = ServerMetrics(app.state.registry)
    app.state.on_startup = []
    app.state.on_shutdown = []
    install_error_handlers(app)
    install_health(app, the_store, settings.server.min_free_disk_bytes)
    app.state.limits = make_limits(settings.server)
    app.include_router(_health_router())
    install_docs(app)
    for name in list(router_modules if router_modules is not None else ROUTER_MODULES):
        module = importlib.import_module(name)
        for router in getattr(module, "routers", None) or [module.router]:
            app.include_router(router)
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _health_router() -> Any:
    from keeneye.server.health import router

    return router


async def _maybe_await(value: Any) -> None:
    if hasattr(value, "__await__"):
        await value


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the bodies that routes parse themselves (see ``schemas``)."""
    if app.openapi_schema:
        return _refined(app)
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in DOCUMENTED_BODIES:
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
    app.openapi_schema = schema
    return _refined(app)


def _refined(app: FastAPI) -> dict[str, Any]:
    """The cached document with the enforced limits (timestamps relative to now) written in."""
    schema = copy.deepcopy(app.openapi_schema or {})
    refine(schema, app.state.settings)
    return schema
