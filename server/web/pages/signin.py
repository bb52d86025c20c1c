"""Signing in and out of the office page (``/``, ``/masuk``, ``/keluar``)."""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from server.web.site import SESSION_COOKIE, SIGNIN_CSRF_COOKIE, Site


def add_routes(web: FastAPI, site: Site) -> None:
    @web.get("/")
    def home(request: Request) -> Response:
        site.signed_in(request)
        return RedirectResponse("/cakupan", status_code=303)

    @web.get("/masuk")
    def signin_page(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = site.render(
            request,
            "signin.html",
            None,
            csrf=token,
            next=_safe_next(request.query_params.get("next")),
        )
        _signin_cookie(request, response, token)
        return response

    @web.post("/masuk")
    async def signin(request: Request) -> Response:
        form = await site.form_of(request, None)
        username, password = form.get("username", ""), form.get("password", "")
        result = await run_in_threadpool(site.accounts.sign_in, username, password)
        if result.session is None:
            await asyncio.sleep(result.delay_s)  # slows a guesser, holds no thread
            token = secrets.token_urlsafe(24)
            locked = result.locked_until
            response = site.render(
                request, "signin.html", None, 401 if locked is None else 429, csrf=token,
                next=_safe_next(form.get("next")), failed=True, locked_until=locked,
                username=username[:64],
            )  # fmt: skip
            _signin_cookie(request, response, token)
            return response
        done: Response = RedirectResponse(
            _safe_next(form.get("next")) or "/cakupan", status_code=303
        )
        done.set_cookie(
            SESSION_COOKIE, result.session.token, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/",
        )  # fmt: skip
        done.delete_cookie(SIGNIN_CSRF_COOKIE, path="/masuk")
        return done

    @web.post("/keluar")
    async def signout(request: Request) -> Response:
        session = site.signed_in(request)
        await site.form_of(request, session)
        await run_in_threadpool(site.accounts.sign_out, session)
        response = RedirectResponse("/masuk", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def _signin_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SIGNIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
        secure=request.url.scheme == "https", path="/masuk",
    )  # fmt: skip


def _safe_next(value: str | None) -> str:
    """Only a path of this site after signing in (never another host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else ""
