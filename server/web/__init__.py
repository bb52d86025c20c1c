"""The office's web page (issue 13): served by ``ektp-server serve`` itself at ``/``.

``office_app(core)`` is the page (routes in server/web/routes.py, templates, static files);
``dispatch(api, web)`` sends the page's paths to it and every other path to the station API,
so a station's request to a wrong path still gets the API's JSON error shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

# First path segments that belong to the page ("" is "/"). Everything else is the API's.
PAGE_SEGMENTS = frozenset(
    {
        "",
        "masuk",
        "keluar",
        "cakupan",
        "cakupan.csv",
        "kit",
        "kit.csv",
        "catatan",
        "laporan",
        "laporan.csv",
        "unduh",
        "static",
        "favicon.ico",
    }
)


def is_page_path(path: str) -> bool:
    return path.split("/", 2)[1] in PAGE_SEGMENTS if path.startswith("/") else False


def dispatch(api: ASGIApp, web: ASGIApp) -> ASGIApp:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_page_path(str(scope.get("path", ""))):
            await web(scope, receive, send)
        else:
            await api(scope, receive, send)

    return app


def office_app(core: Any) -> ASGIApp:
    from server.web.routes import create_office_app

    return create_office_app(core)
