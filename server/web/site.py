"""What every page of the office's web site shares: the templates, the language, the
session and its CSRF-checked forms, the admin check, the refusals shown as pages, and the
date filter of the downloads (``Site``, which each page module of server/web/pages/ gets).

Every page and CSV needs a session; every POST needs the session's CSRF token (the sign-in
form a cookie-bound one), and a change needs the admin role. Pages answer with a strict
Content-Security-Policy: no script runs on them, none is needed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from server import coverage
from server.core import ServerCore
from server.web import figures, format, kits
from server.web.accounts import Accounts, Session, csrf_ok

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "ektp_office"
SIGNIN_CSRF_COOKIE = "ektp_office_signin"
LANG_COOKIE = "ektp_lang"
LANGS = ("id", "en")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
MAX_FORM_BYTES = 16 * 1024
FATE_LISTS = ("rerecord", "duplicate")
RECAP_ROWS = 100


class PageError(Exception):
    """A refusal shown as a page: status and a message in both languages."""

    def __init__(self, status: int, text_id: str, text_en: str) -> None:
        super().__init__(text_en)
        self.status, self.text_id, self.text_en = status, text_id, text_en


class Downloads(Exception):
    """A download refused: the Unduh page (with the message) is the answer."""

    def __init__(self, response: Response) -> None:
        super().__init__("download refused")
        self.response = response


class Unsigned(Exception):
    """No live session: to the sign-in page."""


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = format.number
    env.filters["percent"] = format.percent
    env.filters["when"] = format.when
    env.globals["level_name"] = figures.LEVEL_NAMES
    return env


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGS else "id"


class Site:
    """The office site's shared parts over one ServerCore."""

    def __init__(self, core: ServerCore, kit_audit: kits.KitAuditSource) -> None:
        self.core = core
        self.kit_audit = kit_audit
        self.accounts = Accounts(core.engine)
        self.env = _templates()

    def render(
        self, request: Request, name: str, session: Session | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        lang = lang_of(request)
        other = "en" if lang == "id" else "id"

        def t(text_id: str, text_en: str) -> str:
            return text_id if lang == "id" else text_en

        def ago(ts: float | None) -> str:
            return format.ago(None if ts is None else time.time() - ts, lang)

        html = self.env.get_template(name).render(
            request=request,
            session=session,
            lang=lang,
            t=t,
            ago=ago,
            path=request.url.path,
            other_lang=other,
            other_lang_url=request.url.path
            + "?"
            + urlencode(
                [
                    *((k, v) for k, v in request.query_params.multi_items() if k != "lang"),
                    ("lang", other),
                ]
            ),
            **ctx,
        )
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"
        if request.query_params.get("lang") in LANGS:
            response.set_cookie(
                LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="strict"
            )
        return response

    def signed_in(self, request: Request) -> Session:
        session = self.accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise Unsigned()
        return session

    async def form_of(self, request: Request, session: Session | None) -> dict[str, str]:
        """The POSTed form, after its CSRF token is checked against the session's."""
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, "Isian terlalu besar.", "The form is too large.")
        try:
            fields = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=50)
        except (UnicodeDecodeError, ValueError) as exc:
            raise PageError(400, "Isian tidak terbaca.", "The form cannot be read.") from exc
        form = {k: v[0] for k, v in fields.items()}
        expected = session.csrf if session else request.cookies.get(SIGNIN_CSRF_COOKIE, "")
        if not expected or not csrf_ok(expected, form.get("csrf")):
            raise PageError(
                403,
                "Token formulir tidak cocok: muat ulang halaman lalu coba lagi.",
                "The form's token does not match: reload the page and try again.",
            )
        return form

    async def admin_form(self, request: Request) -> tuple[Session, dict[str, str]]:
        """What every office action begins with: signed in, the form's CSRF token checked,
        an admin's account."""
        session = self.signed_in(request)
        form = await self.form_of(request, session)
        self.admin_only(session)
        return session, form

    def admin_only(self, session: Session) -> None:
        if not session.account.is_admin:
            raise PageError(
                403,
                "Akun Anda hanya dapat melihat (peran viewer): tindakan ini perlu admin.",
                "Your account may only view (viewer role): this action needs an admin.",
            )

    def area_code(self, request: Request) -> str:
        code = request.query_params.get("wilayah") or ""
        if not code:
            return ""
        try:
            return coverage.wilayah(code, "wilayah").code
        except coverage.CoverageInputError as exc:
            raise PageError(
                400, f"Kode wilayah tidak dikenal: {code}", f"Unknown wilayah code: {code}"
            ) from exc

    def downloads_page(
        self, request: Request, session: Session, status: int = 200, error: str = "",
        form: str = "",
    ) -> Response:  # fmt: skip
        q = request.query_params
        return self.render(
            request, "downloads.html", session, status, error=error, form=form,
            wilayah=q.get("wilayah", "")[:40], dari=q.get("dari", "")[:40],
            sampai=q.get("sampai", "")[:40], today=figures.today_wib().isoformat(),
        )  # fmt: skip

    def period_of(self, request: Request, session: Session, form: str) -> coverage.Period | None:
        """The date filter of a download; a bad one answers with the Unduh page, saying
        which field is wrong and why."""
        q = request.query_params
        try:
            return coverage.parse_period(q.get("dari"), q.get("sampai"), figures.today_wib())
        except coverage.PeriodError as exc:
            field = {"dari": "Dari", "sampai": "Sampai"}[exc.field]
            text_id, text_en = {
                "format": (
                    f"{field}: bukan tanggal (YYYY-MM-DD): {exc.value}",
                    f"{field}: not a date (YYYY-MM-DD): {exc.value}",
                ),
                "order": (
                    f"Dari ({exc.value}) sesudah Sampai ({exc.other}).",
                    f"From ({exc.value}) is after To ({exc.other}).",
                ),
                "future": (
                    f"{field} ({exc.value}) sesudah hari ini ({exc.other}).",
                    f"{field} ({exc.value}) is after today ({exc.other}).",
                ),
            }[exc.kind]
            message = text_id if lang_of(request) == "id" else text_en
            raise Downloads(self.downloads_page(request, session, 400, message, form)) from exc

    @staticmethod
    def period_name(period: coverage.Period | None) -> str:
        if period is None:
            return figures.today_wib().isoformat()
        return f"{period.start or 'awal'}_{period.end or figures.today_wib().isoformat()}"

    def station_or_404(self, station_id: str) -> Any:
        st = self.core.find_station(station_id)
        if st is None:
            raise PageError(404, "Kit tidak ditemukan.", "No such kit.")
        return st


def add_error_handlers(web: FastAPI, site: Site) -> None:
    """No session: to the sign-in page; a refusal or an unknown path: a page saying so; a
    refused download: the Unduh page with the message."""

    @web.exception_handler(Unsigned)
    async def _unsigned(request: Request, _exc: Unsigned) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/masuk?next={quote(target, safe='')}", status_code=303)

    @web.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        session = site.accounts.session(request.cookies.get(SESSION_COOKIE))
        return site.render(
            request, "error.html", session, exc.status, message_id=exc.text_id,
            message_en=exc.text_en,
        )  # fmt: skip

    @web.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        session = site.accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return RedirectResponse("/masuk", status_code=303)
        return site.render(
            request, "error.html", session, exc.status_code,
            message_id="Halaman tidak ditemukan." if exc.status_code == 404 else str(exc.detail),
            message_en="Page not found." if exc.status_code == 404 else str(exc.detail),
        )  # fmt: skip

    @web.exception_handler(Downloads)
    async def _downloads(_request: Request, exc: Downloads) -> Response:
        return exc.response
