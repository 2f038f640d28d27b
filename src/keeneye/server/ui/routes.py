"""The web UI's routes: fleet, model, feature and lineage pages, the login form and static
files.

Pages are server-rendered (jinja2) and read the store's stored results; charts are drawn in the
browser by plotly's JavaScript, served from the installed package. Errors on pages are HTML
pages (404 unknown model or feature, 400 a bad query parameter), not the API's JSON envelope.
The routes stay out of the OpenAPI document: it describes the JSON API.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from keeneye import __version__
from keeneye.analysis.count_windows import COUNT
from keeneye.server.ui import assets, views
from keeneye.server.ui.auth import (
    COOKIE,
    MAX_FORM_BYTES,
    SESSION_SECONDS,
    LoginRequired,
    parse_form,
    require_ui_access,
    safe_next,
    session_value,
    token_matches,
)
from keeneye.server.ui.timerange import PRESETS, QueryError, TimeRange, parse_range

log = logging.getLogger("keeneye.server.ui")

pages = APIRouter(include_in_schema=False, dependencies=[Depends(require_ui_access)])
public = APIRouter(include_in_schema=False)
routers = [pages, public]

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("keeneye.server.ui", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "–" if value is None else value.strftime(fmt)


def _fmt_num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}g}"
    return str(value)


def _fmt_pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f} %"


_env.filters.update(
    {"time": _fmt_time, "num": _fmt_num, "pct": _fmt_pct, "q": lambda s: quote(str(s), safe="")}
)
_env.globals.update({"presets": list(PRESETS), "keeneye_version": __version__})


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    charts_ok = assets.plotly_available()
    body = _env.get_template(template).render(
        request=request,
        charts_ok=charts_ok,
        plotly_v=assets.fingerprint(assets.PLOTLY) if charts_ok else "",
        css_v=assets.fingerprint("ui.css"),
        js_v=assets.fingerprint("ui.js"),
        protected=request.app.state.settings.server.token is not None,
        **context,
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


class PageError(Exception):
    """A page that cannot be shown: status, a title and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def _range(request: Request) -> TimeRange:
    settings = request.app.state.settings
    try:
        return parse_range(
            dict(request.query_params),
            request.app.state.clock.now(),
            [*settings.analysis.windows, *([COUNT] if settings.analysis.count_windows else [])],
        )
    except QueryError as exc:
        raise PageError(400, "Bad link", str(exc)) from exc


async def _build(fn: Any, *args: Any) -> dict[str, Any]:
    # Store reads block: run them off the event loop, as the API routes do.
    try:
        result: dict[str, Any] = await run_in_threadpool(fn, *args)
    except views.PageNotFound as exc:
        raise PageError(404, "Not found", str(exc)) from exc
    except QueryError as exc:
        raise PageError(400, "Bad link", str(exc)) from exc
    return result


@pages.get("/", response_class=HTMLResponse)
async def fleet_page(request: Request) -> HTMLResponse:
    tr = _range(request)
    state = request.app.state
    context = await _build(views.fleet, state.store, state.settings, tr)
    return render(request, "fleet.html.j2", **context)


@pages.get("/models/{model}", response_class=HTMLResponse)
async def model_page(model: str, request: Request) -> HTMLResponse:
    tr = _range(request)
    state = request.app.state
    context = await _build(views.model_page, state.store, state.settings, model, tr)
    return render(request, "model.html.j2", **context)


@pages.get("/models/{model}/features/{feature:path}", response_class=HTMLResponse)
async def feature_page(model: str, feature: str, request: Request) -> HTMLResponse:
    tr = _range(request)
    state = request.app.state
    context = await _build(views.feature_page, state.store, state.settings, model, feature, tr)
    return render(request, "feature.html.j2", **context)


@pages.get("/models/{model}/versions/{version}/lineage", response_class=HTMLResponse)
async def lineage_page(model: str, version: str, request: Request) -> HTMLResponse:
    from keeneye.errors import NotFoundError
    from keeneye.lineage.build import build_lineage, mlflow_run

    state = request.app.state
    runs = getattr(state, "mlflow_runs", None) or mlflow_run  # the API's cache when it is there
    try:
        lineage = await run_in_threadpool(
            build_lineage, state.store, model, version, run_lookup=runs
        )
    except NotFoundError as exc:
        raise PageError(404, "Not found", str(exc)) from exc
    skew, skew_problem = None, None
    current = lineage.current_source
    if current is not None and current.kind == "feast":
        from keeneye.baseline.skew import check_skew
        from keeneye.errors import KeeneyeError

        try:
            skew = await run_in_threadpool(check_skew, state.store, model, version)
        except KeeneyeError as exc:
            skew_problem = str(exc)
    return render(request, "lineage.html.j2", lineage=lineage, skew=skew, skew_problem=skew_problem)


@public.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> Response:
    if request.app.state.settings.server.token is None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html.j2", next_path=safe_next(next), problem=None)


@public.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    token = request.app.state.settings.server.token
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, "Form too large", "the login form sends only a token")
    form = parse_form(body)
    target = safe_next(form.get("next"))
    if token is None:
        return RedirectResponse(target, status_code=303)
    if not token_matches(form.get("token", ""), token):
        log.warning("UI login refused from %s", request.client.host if request.client else "?")
        problem = "That token is not this server's token (server.token)."
        return render(request, "login.html.j2", 401, next_path=target, problem=problem)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session_value(token),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@public.post("/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@public.get("/ui/static/{name}")
async def static_file(name: str) -> Response:
    """The UI's CSS/JS and plotly's JavaScript (public: no data in them)."""
    headers = {"Cache-Control": "public, max-age=86400"}
    if name == assets.PLOTLY:
        try:
            js = assets.plotly_js()
        except ImportError as exc:
            return Response(f"/* {exc} */", 404, media_type="text/javascript", headers=headers)
        return Response(js, media_type="text/javascript; charset=utf-8", headers=headers)
    if name not in assets.OWN_FILES:
        return Response("not found", 404, media_type="text/plain")
    return Response(assets.own_file(name), media_type=assets.OWN_FILES[name], headers=headers)


async def _page_error(request: Request, raw: Exception) -> Response:
    exc = raw if isinstance(raw, PageError) else PageError(500, "Error", str(raw))
    return render(
        request, "error.html.j2", exc.status, title=exc.title, message=exc.message, code=exc.status
    )


async def _login_required(request: Request, raw: Exception) -> Response:
    exc = raw if isinstance(raw, LoginRequired) else LoginRequired("/")
    response = render(
        request, "login.html.j2", 401, next_path=safe_next(exc.next_path), problem=exc.problem
    )
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def setup(app: FastAPI) -> None:
    """Turn page errors into HTML pages and say at start-up whether the UI is protected."""
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(LoginRequired, _login_required)
    settings = app.state.settings

    def announce() -> None:
        if settings.server.token is None:
            log.warning(
                "the web UI at / is not protected: no server.token is set, so anyone who can "
                "reach this server (host %s) can read it; set server.token or "
                "KEENEYE_SERVER__TOKEN to require a login",
                settings.server.host,
            )
        else:
            log.info("the web UI at / asks for the server token")

    app.state.on_startup.append(announce)
