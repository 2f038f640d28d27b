"""The UI's search page: a model's events in a time range, filtered by a feature value or by
the prediction, each with its label (what people debugging a model look for; Kibana's job in
the article). ``/models/{model}/search?start=…&end=…&version=…&feature=…&value=…&prediction=…``.

On the OpenSearch event log the filter runs as one query; on other stores the window is read
and filtered (:func:`keeneye.store.search.search_events`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from keeneye.errors import InputError, NotFoundError
from keeneye.server.ui.auth import require_ui_access
from keeneye.server.ui.routes import PageError, _range, render
from keeneye.store.search import search_events

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_ui_access)])

MAX_ROWS = 1000


def _limit(text: str | None) -> int:
    if not text:
        return 100
    try:
        value = int(text)
    except ValueError as exc:
        raise PageError(400, "Bad link", f"limit: {text!r} is not a number; use e.g. 100") from exc
    if not 1 <= value <= MAX_ROWS:
        raise PageError(400, "Bad link", f"limit: use a number from 1 to {MAX_ROWS}")
    return value


@router.get("/models/{model}/search", response_class=HTMLResponse)
async def search_page(model: str, request: Request) -> HTMLResponse:
    tr = _range(request)
    query = request.query_params
    feature = query.get("feature") or None
    value = query.get("value")
    value = value if value not in (None, "") else None
    prediction = query.get("prediction") or None
    limit = _limit(query.get("limit"))
    store = request.app.state.store
    if feature is not None and value is None:
        raise PageError(400, "Bad link", f"value: give the value of {feature!r} to look for")

    def find() -> dict[str, Any]:
        features = list(store.feature_types(model))
        hits = search_events(
            store,
            model,
            tr.start,
            tr.end,
            version=tr.version,
            feature=feature,
            value=value,
            prediction=prediction,
            limit=limit,
        )
        return {"features": features, "hits": hits}

    try:
        found = await run_in_threadpool(find)
    except NotFoundError as exc:
        raise PageError(404, "Not found", f"no model {model!r}: {exc}") from exc
    except InputError as exc:
        raise PageError(400, "Bad search", str(exc)) from exc
    return render(
        request,
        "search.html.j2",
        model=model,
        tr=tr,
        feature=feature,
        value=value,
        prediction=prediction,
        limit=limit,
        **found,
    )
