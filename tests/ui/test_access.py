"""Who may see the UI, and what a bad link gets: a login with the server token (HttpOnly
session cookie or ``Authorization: Bearer``), 404 pages for unknown models and features, 400
pages naming the query parameter to fix. Real server (uvicorn), real browser for the login."""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser
from tests.ui.conftest import TOKEN, Demo, serve

from keeneye.server.app import create_app


def test_with_a_token_every_page_refuses_a_request_without_it(secured_ui: str, demo: Demo) -> None:
    feature = sorted(demo.store.feature_types(demo.model))[0]
    pages = {
        "/": "fleet-table",
        f"/models/{demo.model}": "drift-table",
        f"/models/{demo.model}/features/{feature}": "tests-table",
    }
    for page, shown in pages.items():
        refused = httpx.get(secured_ui + page, timeout=30)
        assert refused.status_code == 401, page
        assert refused.headers["content-type"].startswith("text/html")
        assert 'name="token"' in refused.text  # the login form
        for data in (*pages.values(), "prediction_bias"):
            assert data not in refused.text  # nothing of the data leaks
        wrong = httpx.get(secured_ui + page, headers={"Authorization": "Bearer not-it"}, timeout=30)
        assert wrong.status_code == 401 and "prediction_bias" not in wrong.text
        forged = httpx.get(secured_ui + page, cookies={"keeneye_session": TOKEN}, timeout=30)
        assert forged.status_code == 401  # the cookie is not the token itself
        allowed = httpx.get(
            secured_ui + page, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        )
        assert allowed.status_code == 200 and shown in allowed.text
    # Static files hold no data: the login page needs its stylesheet.
    assert httpx.get(secured_ui + "/ui/static/ui.css", timeout=30).status_code == 200


def test_login_sets_an_httponly_session_cookie_and_logout_clears_it(
    secured_ui: str, demo: Demo, browser: Browser
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        target = f"{secured_ui}/models/{quote(demo.model)}?range=21d"
        response = page.goto(target)
        assert response is not None and response.status == 401
        assert page.locator("#login form").is_visible()
        assert page.locator("#drift-table").count() == 0

        page.fill("input[name='token']", "wrong-token")
        with page.expect_navigation():
            page.click("#login button[type='submit']")
        assert page.locator("#login-problem").is_visible()
        assert context.cookies() == []

        page.fill("input[name='token']", TOKEN)
        with page.expect_navigation():
            page.click("#login button[type='submit']")
        assert page.url == target  # back where the login was asked for
        assert page.locator("#drift-table tbody tr").count() > 0
        (cookie,) = context.cookies()
        assert cookie["name"] == "keeneye_session" and cookie["httpOnly"]
        assert cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]
        assert page.evaluate("document.cookie") == ""  # out of reach of scripts

        with page.expect_navigation():
            page.click("header form.logout button")
        assert context.cookies() == []
        again = page.goto(target)
        assert again is not None and again.status == 401
    finally:
        context.close()


def test_login_only_redirects_within_the_server(secured_ui: str) -> None:
    response = httpx.post(
        f"{secured_ui}/login",
        content=f"token={TOKEN}&next=//evil.example/x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/models/ghost", 404, ["'ghost'", "breast-cancer"]),
        ("/models/ghost/features/x", 404, ["'ghost'"]),
        ("/models/{model}/features/nope", 404, ["'nope'", "mean_texture"]),
        ("/models/{model}?range=5y", 400, ["range: '5y'", "24h, 7d"]),
        ("/models/{model}?start=2026-11-10T00:00", 400, ["end: a custom range needs both"]),
        ("/models/{model}?start=yesterday&end=2026-11-10", 400, ["start: 'yesterday'"]),
        ("/models/{model}?start=2026-11-12&end=2026-11-10", 400, ["is not after start"]),
        ("/models/{model}?window=weekly", 400, ["window: 'weekly'", "daily"]),
        ("/models/{model}?version=9", 400, ["version: '9'", "1, 2"]),
        ("/?range=1y", 400, ["range: '1y'"]),
    ],
)
def test_bad_links_get_a_page_saying_what_to_fix(
    ui: str, demo: Demo, path: str, status: int, words: list[str]
) -> None:
    response = httpx.get(ui + path.format(model=demo.model), timeout=30)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    message = response.text.split('id="error-message">')[1].split("</p>")[0]
    for word in words:
        assert word.replace("'", "&#39;") in message, message


def test_an_unprotected_ui_says_so_in_the_log(demo: Demo, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="keeneye.server.ui"):
        served = serve(create_app(demo.settings, demo.store, clock=lambda: demo.now))
        try:
            assert httpx.get(served.url + "/", timeout=30).status_code == 200
        finally:
            served.stop()
    assert any("not protected" in r.getMessage() for r in caplog.records)


def test_the_ui_stays_out_of_the_api_document(ui: str) -> None:
    paths = httpx.get(f"{ui}/openapi.json", timeout=30).json()["paths"]
    assert not [p for p in paths if not p.startswith(("/v1/", "/metrics"))]


def test_a_session_expires_on_the_server_and_is_bound_to_the_token() -> None:
    from pydantic import SecretStr

    from keeneye.server.ui.auth import session_value, valid_session

    token = SecretStr("s3cret")
    cookie = session_value(token)
    assert valid_session(cookie, token)
    assert not valid_session(cookie, SecretStr("other"))  # a new token logs browsers out
    assert not valid_session(cookie + "x", token)  # tampered
    assert not valid_session(cookie, token, max_age=-1)  # expired, whatever the browser keeps
