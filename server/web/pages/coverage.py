"""Cakupan (coverage down the wilayah tree, with the chart of the last 30 days), Unduh
(the downloads page) and the coverage CSV."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup

from app.domain import regions
from server import coverage
from server.web import figures
from server.web.figures import fates_per_area, per_day
from server.web.site import SECURITY_HEADERS, Downloads, PageError, Site, lang_of


def add_routes(web: FastAPI, site: Site) -> None:
    core = site.core

    @web.get("/cakupan")
    def coverage_page(request: Request) -> Response:
        session = site.signed_in(request)
        code = site.area_code(request)
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
        return site.render(
            request, "coverage.html", session, doc=doc, region=region, level=level,
            crumbs=crumbs, extra=extra, total=total, chart=Markup(figures.chart_svg(days, title)),
            days=days, code=code,
        )  # fmt: skip

    @web.get("/unduh")
    def downloads(request: Request) -> Response:
        return site.downloads_page(request, site.signed_in(request))

    @web.get("/cakupan.csv")
    def coverage_csv(request: Request) -> Response:
        session = site.signed_in(request)
        try:
            code = site.area_code(request)
        except PageError as exc:
            raise Downloads(
                site.downloads_page(request, session, 400, exc.text_id
                                    if lang_of(request) == "id" else exc.text_en, "cakupan")
            ) from exc  # fmt: skip
        period = site.period_of(request, session, "cakupan")
        deepest = 4 if code else 2  # the whole country: provinces and kabupaten
        name = f"cakupan-{code or 'indonesia'}-{site.period_name(period)}.csv"
        return StreamingResponse(
            figures.coverage_csv(core.engine, code or None, deepest, period),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                **SECURITY_HEADERS,
            },
        )
