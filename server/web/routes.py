"""The office page's routes: thin over the services the CLI uses (server.coverage,
ServerCore's stations, server.web.accounts), rendering Jinja2 templates.

Every page and CSV needs a session; every POST needs the session's CSRF token (the sign-in
form a cookie-bound one), and a change needs the admin role. Pages answer with a strict
Content-Security-Policy: no script runs on them, none is needed.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import segno
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from app.domain import regions
from server import coverage
from server.core import CODE_TTL_S, InputError, ServerCore, iso
from server.web import figures, format, kits
from server.web.accounts import Accounts, Session, audit_events, csrf_ok, record
from server.web.figures import fates_per_area, per_day
from server.web.kit_audit import uploaded_kit_audit

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


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGS else "id"


def create_office_app(
    core: ServerCore, kit_audit: kits.KitAuditSource = uploaded_kit_audit
) -> FastAPI:
    accounts = Accounts(core.engine)
    env = _templates()
    web = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def render(
        request: Request, name: str, session: Session | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        lang = _lang(request)
        other = "en" if lang == "id" else "id"

        def t(text_id: str, text_en: str) -> str:
            return text_id if lang == "id" else text_en

        def ago(ts: float | None) -> str:
            return format.ago(None if ts is None else time.time() - ts, lang)

        html = env.get_template(name).render(
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

    def signed_in(request: Request) -> Session:
        session = accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise Unsigned()
        return session

    async def form_of(request: Request, session: Session | None) -> dict[str, str]:
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

    def admin_only(session: Session) -> None:
        if not session.account.is_admin:
            raise PageError(
                403,
                "Akun Anda hanya dapat melihat (peran viewer): tindakan ini perlu admin.",
                "Your account may only view (viewer role): this action needs an admin.",
            )

    @web.exception_handler(Unsigned)
    async def _unsigned(request: Request, _exc: Unsigned) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/masuk?next={quote(target, safe='')}", status_code=303)

    @web.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        session = accounts.session(request.cookies.get(SESSION_COOKIE))
        return render(
            request, "error.html", session, exc.status, message_id=exc.text_id,
            message_en=exc.text_en,
        )  # fmt: skip

    @web.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        session = accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return RedirectResponse("/masuk", status_code=303)
        return render(
            request, "error.html", session, exc.status_code,
            message_id="Halaman tidak ditemukan." if exc.status_code == 404 else str(exc.detail),
            message_en="Page not found." if exc.status_code == 404 else str(exc.detail),
        )  # fmt: skip

    # --- signing in ---------------------------------------------------------------------

    @web.get("/")
    def home(request: Request) -> Response:
        signed_in(request)
        return RedirectResponse("/cakupan", status_code=303)

    @web.get("/masuk")
    def signin_page(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = render(
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
        form = await form_of(request, None)
        username, password = form.get("username", ""), form.get("password", "")
        result = await run_in_threadpool(accounts.sign_in, username, password)
        if result.session is None:
            await asyncio.sleep(result.delay_s)  # slows a guesser, holds no thread
            token = secrets.token_urlsafe(24)
            locked = result.locked_until
            response = render(
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
        session = signed_in(request)
        await form_of(request, session)
        await run_in_threadpool(accounts.sign_out, session)
        response = RedirectResponse("/masuk", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- Cakupan ----------------------------------------------------------------------------

    def area_code(request: Request) -> str:
        code = request.query_params.get("wilayah") or ""
        if not code:
            return ""
        try:
            return coverage.wilayah(code, "wilayah").code
        except coverage.CoverageInputError as exc:
            raise PageError(
                400, f"Kode wilayah tidak dikenal: {code}", f"Unknown wilayah code: {code}"
            ) from exc

    @web.get("/cakupan")
    def coverage_page(request: Request) -> Response:
        session = signed_in(request)
        code = area_code(request)
        region = regions.get(code) if code else None
        level = region.level if region else 0
        doc = coverage.coverage(core.engine, code or None, depth=1)
        extra = fates_per_area(core.engine, code, level + 1) if level < 4 else {}
        own = fates_per_area(core.engine, code, max(level, 1)) if code else {}
        total = {
            k: sum(v[k] for v in (own.values() if code else extra.values()))
            for k in ("received", "duplicate", "rerecord")
        }
        days = per_day(core.engine, code)
        title = f"Terekam per hari, 30 hari terakhir: {doc['wilayah']['nama']}"
        crumbs = [("", "Indonesia")] + [
            (p.code, p.name)
            for p in (regions.get(c) for c in (region.parents if region else ()))
            if p is not None
        ]
        return render(
            request, "coverage.html", session, doc=doc, region=region, level=level,
            crumbs=crumbs, extra=extra, total=total, chart=Markup(figures.chart_svg(days, title)),
            days=days, code=code,
        )  # fmt: skip

    # --- Unduh ------------------------------------------------------------------------------

    def downloads_page(
        request: Request, session: Session, status: int = 200, error: str = "",
        form: str = "",
    ) -> Response:  # fmt: skip
        q = request.query_params
        return render(
            request, "downloads.html", session, status, error=error, form=form,
            wilayah=q.get("wilayah", "")[:40], dari=q.get("dari", "")[:40],
            sampai=q.get("sampai", "")[:40], today=figures.today_wib().isoformat(),
        )  # fmt: skip

    @web.get("/unduh")
    def downloads(request: Request) -> Response:
        return downloads_page(request, signed_in(request))

    def period_of(request: Request, session: Session, form: str) -> coverage.Period | None:
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
            message = text_id if _lang(request) == "id" else text_en
            raise Downloads(downloads_page(request, session, 400, message, form)) from exc

    @web.exception_handler(Downloads)
    async def _downloads(_request: Request, exc: Downloads) -> Response:
        return exc.response

    def period_name(period: coverage.Period | None) -> str:
        if period is None:
            return figures.today_wib().isoformat()
        return f"{period.start or 'awal'}_{period.end or figures.today_wib().isoformat()}"

    @web.get("/cakupan.csv")
    def coverage_csv(request: Request) -> Response:
        session = signed_in(request)
        try:
            code = area_code(request)
        except PageError as exc:
            raise Downloads(
                downloads_page(request, session, 400, exc.text_id if _lang(request) == "id"
                               else exc.text_en, "cakupan")
            ) from exc  # fmt: skip
        period = period_of(request, session, "cakupan")
        deepest = 4 if code else 2  # the whole country: provinces and kabupaten
        name = f"cakupan-{code or 'indonesia'}-{period_name(period)}.csv"
        return StreamingResponse(
            figures.coverage_csv(core.engine, code or None, deepest, period),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                **SECURITY_HEADERS,
            },
        )

    # --- Kit --------------------------------------------------------------------------------

    @web.get("/kit")
    def kit_list(request: Request) -> Response:
        session = signed_in(request)
        try:
            number = int(request.query_params.get("halaman") or 1)
        except ValueError as exc:
            raise PageError(400, "Halaman: sebuah angka.", "Page: a number.") from exc
        listing = kits.kit_page(core, number)
        return render(
            request, "kits.html", session, rows=listing.rows, counts=listing.counts,
            page=listing.page, pages=listing.pages, done=request.query_params.get("selesai"),
        )  # fmt: skip

    @web.get("/kit.csv")
    def kit_csv(request: Request) -> Response:
        session = signed_in(request)
        period = period_of(request, session, "kit")
        rows = kits.kit_rows(core)
        kits.fill_today(core.engine, rows, all_kits=True)
        in_period = kits.per_kit(core.engine, period) if period else None
        name = f"kit-{period_name(period)}.csv"
        return StreamingResponse(
            kits.kits_csv(rows, period, in_period),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                **SECURITY_HEADERS,
            },
        )

    @web.get("/kit/baru")
    def kit_new_page(request: Request) -> Response:
        session = signed_in(request)
        admin_only(session)
        return render(request, "kit_new.html", session, form={}, error=None)

    @web.post("/kit/baru")
    async def kit_new(request: Request) -> Response:
        session = signed_in(request)
        form = await form_of(request, session)
        admin_only(session)
        name = form.get("name", "").strip()
        kecamatan = form.get("kecamatan", "").strip()

        def add() -> tuple[Any, str]:
            st, code = core.add_station(name, kecamatan)
            with core.engine.begin() as conn:
                record(
                    conn, session.account.username, "kit_add", st.id,
                    f"{st.name}, kecamatan {st.kecamatan}",
                )  # fmt: skip
            return st, code

        try:
            st, code = await run_in_threadpool(add)
        except InputError as exc:
            return render(
                request, "kit_new.html", session, 400, form=form,
                error=_field_error(str(exc)),
            )  # fmt: skip
        qr = segno.make(code, error="m").svg_inline(scale=5, dark="#111", light="#fff")
        return render(
            request, "kit_code.html", session, station=st, code=code, qr=Markup(qr),
            kecamatan_name=kits.kecamatan_name(st.kecamatan), hours=round(CODE_TTL_S / 3600),
            server_url=str(request.base_url).rstrip("/"),
        )  # fmt: skip

    def station_or_404(station_id: str) -> Any:
        st = core.find_station(station_id)
        if st is None:
            raise PageError(404, "Kit tidak ditemukan.", "No such kit.")
        return st

    @web.get("/kit/{station_id}")
    def kit_detail(request: Request, station_id: str) -> Response:
        session = signed_in(request)
        st = station_or_404(station_id)
        (row,) = kits.kit_rows(core, only=st)
        events = audit_events(core.engine, st.id)
        return render(
            request, "kit_detail.html", session, row=row, st=st,
            kecamatan_name=kits.kecamatan_name(st.kecamatan),
            history=kits.assignment_history(core, st.id, events),
            totals=kits.kit_totals(core.engine, st.id),
            fates=kits.recent_fates(core, st.id), events=events,
            kit_audit=kit_audit(core.engine, st.id),
            iso=iso, error=None, done=request.query_params.get("selesai"),
        )  # fmt: skip

    @web.post("/kit/{station_id}/cabut")
    async def kit_revoke(request: Request, station_id: str) -> Response:
        session = signed_in(request)
        form = await form_of(request, session)
        admin_only(session)
        st = station_or_404(station_id)
        if form.get("confirm") != "ya":
            raise PageError(
                400, "Centang konfirmasi untuk mencabut kit.", "Tick the confirmation to revoke."
            )
        stolen = form.get("stolen") == "ya"
        note = form.get("note", "").strip()[:500]
        since = _wib_time(form.get("since", "")) if stolen else None

        def revoke() -> int:
            _, cascaded, held = core.revoke(st.id, since)
            detail = "; ".join(
                x
                for x in (
                    "dilaporkan dicuri" if stolen else "",
                    f"sejak {iso(since)}" if since else "",
                    f"{held} paket dikarantina" if since else "",
                    f"ikut dicabut: {', '.join(cascaded)}" if cascaded else "",
                    note,
                )
                if x
            )
            with core.engine.begin() as conn:
                record(
                    conn, session.account.username, "kit_stolen" if stolen else "kit_revoke",
                    st.id, detail,
                )  # fmt: skip
            return held

        try:
            await run_in_threadpool(revoke)
        except InputError as exc:
            raise PageError(400, str(exc), str(exc)) from exc
        return RedirectResponse(f"/kit/{quote(st.id)}?selesai=cabut", status_code=303)

    @web.post("/kit/{station_id}/tugaskan")
    async def kit_assign(request: Request, station_id: str) -> Response:
        session = signed_in(request)
        form = await form_of(request, session)
        admin_only(session)
        st = station_or_404(station_id)
        kecamatan = form.get("kecamatan", "").strip()

        def assign() -> None:
            core.assign(st.id, kecamatan)
            with core.engine.begin() as conn:
                record(
                    conn, session.account.username, "kit_assign", st.id,
                    f"{st.kecamatan} -> {kecamatan}",
                )  # fmt: skip

        try:
            await run_in_threadpool(assign)
        except InputError as exc:
            message = _field_error(str(exc))
            raise PageError(400, message, message) from exc
        return RedirectResponse(f"/kit/{quote(st.id)}?selesai=tugaskan", status_code=303)

    # --- Rekam ulang / Ganda ----------------------------------------------------------------

    @web.get("/catatan")
    def fate_list(request: Request) -> Response:
        session = signed_in(request)
        status = request.query_params.get("jenis") or "rerecord"
        if status not in FATE_LISTS:
            raise PageError(400, "Jenis daftar tidak dikenal.", "Unknown list.")
        code = area_code(request)
        items, total = kits.fates_listed(core.engine, status, code)
        names = kits.station_names(core, {r["station_id"] for r in items})
        return render(
            request, "fates.html", session, jenis=status, items=items, total=total,
            names=names, code=code, region=regions.get(code) if code else None,
        )  # fmt: skip

    # --- Laporan harian ---------------------------------------------------------------------

    def recap_args(request: Request) -> tuple[str, str | None]:
        day = request.query_params.get("tanggal") or figures.today_wib().isoformat()
        try:
            day = coverage.parse_day(day)
        except coverage.CoverageInputError as exc:
            raise PageError(400, "Tanggal: YYYY-MM-DD.", "Date: YYYY-MM-DD.") from exc
        kec = request.query_params.get("kecamatan") or None
        if kec:
            try:
                kec = coverage.wilayah(kec, "kecamatan").code
            except coverage.CoverageInputError as exc:
                raise PageError(
                    400, f"Kecamatan tidak dikenal: {kec}", f"Unknown kecamatan: {kec}"
                ) from exc
        return day, kec

    @web.get("/laporan")
    def recap_page(request: Request) -> Response:
        session = signed_in(request)
        day, kec = recap_args(request)
        per = ("kecamatan", "stations", "operators")  # the desa are in the CSV
        # A whole country's day has thousands of kecamatan and kits: the page shows the
        # busiest RECAP_ROWS of each (the CSV has them all) and says how many more there are.
        doc = coverage.recap(core.engine, day, kec, per=per, busiest=RECAP_ROWS)
        names = kits.station_names(core, {r["kode"] for r in doc["stations"]})
        return render(
            request, "recap.html", session, doc=doc, day=day, kec=kec or "", names=names,
            region_name=kits.kecamatan_name, more=doc["more"],
        )  # fmt: skip

    @web.get("/laporan.csv")
    def recap_csv(request: Request) -> Response:
        signed_in(request)
        day, kec = recap_args(request)
        text = coverage.recap_csv(coverage.recap(core.engine, day, kec))
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="laporan-{day}.csv"',
                "Cache-Control": "no-store",
                **SECURITY_HEADERS,
            },
        )

    @web.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    return web


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


def _field_error(message: str) -> str:
    return message.replace("--kecamatan", "kecamatan").replace("--name", "nama")


def _wib_time(value: str) -> float | None:
    """A ``datetime-local`` field, read as WIB (the office's clock)."""
    value = value.strip()
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PageError(
            400, "Waktu pencurian: format tidak dikenal.", "Time of theft: unknown format."
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=format.WIB)
    return when.timestamp()
