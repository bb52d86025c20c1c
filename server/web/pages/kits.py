"""The Kit pages: the list (and its CSV), a new kit and its one-time code, a kit's page,
revoking and assigning it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import segno
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from markupsafe import Markup
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from app import policy as policy_keys
from app.store.settings import Settings
from server import policy
from server.core import CODE_TTL_S, InputError, iso
from server.web import format, kits
from server.web.accounts import Session, audit_events, record
from server.web.site import SECURITY_HEADERS, PageError, Site, lang_of


def add_routes(web: FastAPI, site: Site) -> None:
    _add_list_routes(web, site)  # first: /kit/baru before /kit/{station_id}
    _add_kit_routes(web, site)


def _add_list_routes(web: FastAPI, site: Site) -> None:
    """The Kit list, its CSV, and a new kit."""
    core = site.core

    @web.get("/kit")
    def kit_list(request: Request) -> Response:
        session = site.signed_in(request)
        try:
            number = int(request.query_params.get("halaman") or 1)
        except ValueError as exc:
            raise PageError(400, "Halaman: sebuah angka.", "Page: a number.") from exc
        listing = kits.kit_page(core, number)
        return site.render(
            request, "kits.html", session, rows=listing.rows, counts=listing.counts,
            page=listing.page, pages=listing.pages, done=request.query_params.get("selesai"),
        )  # fmt: skip

    @web.get("/kit.csv")
    def kit_csv(request: Request) -> Response:
        session = site.signed_in(request)
        period = site.period_of(request, session, "kit")
        rows = kits.kit_rows(core)
        kits.fill_today(core.engine, rows, all_kits=True)
        in_period = kits.per_kit(core.engine, period) if period else None
        name = f"kit-{site.period_name(period)}.csv"
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
        session = site.signed_in(request)
        site.admin_only(session)
        return site.render(request, "kit_new.html", session, form={}, error=None)

    @web.post("/kit/baru")
    async def kit_new(request: Request) -> Response:
        session, form = await site.admin_form(request)
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
            return site.render(
                request, "kit_new.html", session, 400, form=form,
                error=_field_error(str(exc)),
            )  # fmt: skip
        qr = segno.make(code, error="m").svg_inline(scale=5, dark="#111", light="#fff")
        return site.render(
            request, "kit_code.html", session, station=st, code=code, qr=Markup(qr),
            kecamatan_name=kits.kecamatan_name(st.kecamatan), hours=round(CODE_TTL_S / 3600),
            server_url=str(request.base_url).rstrip("/"),
        )  # fmt: skip


def _add_kit_routes(web: FastAPI, site: Site) -> None:
    """One kit's page; revoking and assigning it."""
    core = site.core

    def detail_page(
        request: Request, session: Session, st: Any, status: int = 200, error: str | None = None,
        policy_form: dict[str, str] | None = None,
    ) -> Response:  # fmt: skip
        (row,) = kits.kit_rows(core, only=st)
        events = audit_events(core.engine, st.id)
        return site.render(
            request, "kit_detail.html", session, status, row=row, st=st,
            kecamatan_name=kits.kecamatan_name(st.kecamatan),
            history=kits.assignment_history(core, st.id, events),
            totals=kits.kit_totals(core.engine, st.id),
            fates=kits.recent_fates(core, st.id), events=events,
            kit_audit=site.kit_audit(core.engine, st.id),
            policy_rows=_policy_rows(core.engine, st), policy_form=policy_form or {},
            iso=iso, error=error, done=request.query_params.get("selesai"),
        )  # fmt: skip

    @web.get("/kit/{station_id}")
    def kit_detail(request: Request, station_id: str) -> Response:
        session = site.signed_in(request)
        return detail_page(request, session, site.station_or_404(station_id))

    @web.post("/kit/{station_id}/kebijakan")
    async def kit_policy(request: Request, station_id: str) -> Response:
        """Set or unset one policy key for this kit or its kecamatan (issue 13)."""
        session, form = await site.admin_form(request)
        st = site.station_or_404(station_id)
        english = lang_of(request) == "en"
        try:
            change = _policy_change(form, st, english)
        except _PolicyInputError as exc:
            return detail_page(request, session, st, 400, str(exc), form)

        refused = await run_in_threadpool(
            _write_policy, core.engine, session.account.username, st.id, change, english
        )
        if refused:
            return detail_page(request, session, st, 400, refused, form)
        return RedirectResponse(f"/kit/{quote(st.id)}?selesai=kebijakan", status_code=303)

    @web.post("/kit/{station_id}/cabut")
    async def kit_revoke(request: Request, station_id: str) -> Response:
        session, form = await site.admin_form(request)
        st = site.station_or_404(station_id)
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
        session, form = await site.admin_form(request)
        st = site.station_or_404(station_id)
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


class _PolicyInputError(ValueError):
    """A policy form field refused; the message names the field."""


POLICY_SCOPES = {"kit": "station", "kecamatan": "kecamatan"}


def _policy_change(form: dict[str, str], st: Any, english: bool) -> tuple[str, str, str, str, bool]:
    """(scope, target, key, canonical value, unset) of a policy form, or _PolicyInputError
    naming the field."""
    key = form.get("key", "").strip()
    spec = policy_keys.KEYS.get(key)
    if spec is None:
        known = ", ".join(policy_keys.KEYS)
        raise _PolicyInputError(
            f"Key: {key!r} is not a policy key (one of {known})."
            if english
            else f"Kunci: {key!r} bukan kunci kebijakan (salah satu dari {known})."
        )
    scope = POLICY_SCOPES.get(form.get("scope", ""))
    if scope is None:
        raise _PolicyInputError(
            "For: this kit or its kecamatan." if english else "Untuk: kit ini atau kecamatannya."
        )
    target = st.id if scope == "station" else st.kecamatan
    if form.get("action") == "unset":
        return scope, target, key, "", True
    value = form.get("value", "").strip()
    try:
        canonical = policy_keys.check_value(key, value)
    except policy_keys.PolicyValueError as exc:
        raise _PolicyInputError(
            f"Value: {exc}."
            if english
            else f"Nilai: {value!r} tidak berlaku untuk {key}; berikan {_describe_id(spec)}."
        ) from exc
    return scope, target, key, canonical, False


def _write_policy(
    engine: Engine, actor: str, station_id: str, change: tuple[str, str, str, str, bool],
    english: bool,
) -> str | None:  # fmt: skip
    """The change and its office audit event in one transaction; a key to unset that is not
    set there writes nothing and answers why."""
    scope, target, key, value, unset = change
    where = "kit ini" if scope == "station" else f"kecamatan {target}"
    with engine.begin() as conn:
        if not unset:
            policy.put(conn, scope, target, key, value, actor)
            record(conn, actor, "policy_set", station_id, f"{key} = {value} ({where})")
            return None
        if policy.remove(conn, scope, target, key):
            record(conn, actor, "policy_unset", station_id, f"{key} ({where})")
            return None
    if english:
        return f"Key: {key} is not set for this {'kit' if scope == 'station' else 'kecamatan'}."
    return (
        f"Kunci: {key} tidak diatur untuk {'kit ini' if scope == 'station' else 'kecamatan ini'}."
    )


def _describe_id(spec: policy_keys.PolicyKey) -> str:
    if spec.kind == "choice":
        return "salah satu dari " + ", ".join(spec.choices)
    kind = "bilangan bulat" if spec.kind == "int" else "angka"
    return f"{kind} dari {spec.low:g} sampai {spec.high:g}"


def _policy_rows(engine: Engine, st: Any) -> list[dict[str, Any]]:
    """Each policy key for this kit: the value in force and where it comes from (this kit,
    its kecamatan, every kit), or none: the kit keeps its own value (its default shown)."""
    with engine.connect() as conn:
        in_force = policy.in_force(conn, st)
    defaults = Settings()
    rows = []
    for name, spec in policy_keys.KEYS.items():
        scope, value = in_force.get(name, ("", ""))
        rows.append(
            {
                "key": name, "value": value, "scope": scope, "meaning": spec.meaning,
                "range": spec.describe(), "range_id": _describe_id(spec),
                "default": getattr(defaults, name),
            }
        )  # fmt: skip
    return rows


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
