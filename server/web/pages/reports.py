"""Rekam ulang / Ganda (the fates' lists) and Laporan harian (a day's recap, and its
CSV)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from app.domain import regions
from server import coverage
from server.web import figures, kits
from server.web.site import FATE_LISTS, RECAP_ROWS, SECURITY_HEADERS, PageError, Site


def add_routes(web: FastAPI, site: Site) -> None:
    core = site.core

    @web.get("/catatan")
    def fate_list(request: Request) -> Response:
        session = site.signed_in(request)
        status = request.query_params.get("jenis") or "rerecord"
        if status not in FATE_LISTS:
            raise PageError(400, "Jenis daftar tidak dikenal.", "Unknown list.")
        code = site.area_code(request)
        items, total = kits.fates_listed(core.engine, status, code)
        names = kits.station_names(core, {r["station_id"] for r in items})
        return site.render(
            request, "fates.html", session, jenis=status, items=items, total=total,
            names=names, code=code, region=regions.get(code) if code else None,
        )  # fmt: skip

    # --- Laporan harian ---------------------------------------------------------------------

    @web.get("/laporan")
    def recap_page(request: Request) -> Response:
        session = site.signed_in(request)
        day, kec = _recap_args(request)
        per = ("kecamatan", "stations", "operators")  # the desa are in the CSV
        # A whole country's day has thousands of kecamatan and kits: the page shows the
        # busiest RECAP_ROWS of each (the CSV has them all) and says how many more there are.
        doc = coverage.recap(core.engine, day, kec, per=per, busiest=RECAP_ROWS)
        names = kits.station_names(core, {r["kode"] for r in doc["stations"]})
        return site.render(
            request, "recap.html", session, doc=doc, day=day, kec=kec or "", names=names,
            region_name=kits.kecamatan_name, more=doc["more"],
        )  # fmt: skip

    @web.get("/laporan.csv")
    def recap_csv(request: Request) -> Response:
        site.signed_in(request)
        day, kec = _recap_args(request)
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


def _recap_args(request: Request) -> tuple[str, str | None]:
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
