"""The domain as the recording screen asks for it: validation, NIK hints, region search and
the list fields' values (plain Python, no store)."""

from __future__ import annotations

from typing import Any

from app.domain import codes, regions
from app.domain.biodata import suggest_from_nik, validate_biodata
from app.ui.services import Checked, Issue, Region

REGION_LIMIT = 12


class DomainServices:
    """The domain half of :class:`app.ui.station.StationServices`."""

    def validate(self, fields: dict[str, str]) -> Checked:
        v = validate_biodata(fields)
        return Checked(
            ok=v.ok,
            errors=[Issue(i.field, i.code, i.message) for i in v.errors],
            warnings=[Issue(i.field, i.code, i.message) for i in v.warnings],
            biodata=v.biodata,
        )

    def suggest_from_nik(self, nik: str) -> dict[str, str]:
        return suggest_from_nik(nik)

    def search_regions(
        self, query: str, within: str | None, limit: int = REGION_LIMIT
    ) -> list[Region]:
        """Desa/kelurahan for the kode_wilayah field: a typed code; then, within the
        station's kabupaten, desa whose name matches and the desa of matching kecamatan;
        then matching desa anywhere."""
        found: list[Any] = []
        seen: set[str] = set()

        def add(items: list[Any]) -> None:
            for r in items:
                if r.level == 4 and r.code not in seen and len(found) < limit:
                    found.append(r)
                    seen.add(r.code)

        code = regions.normalize_code(query)
        exact = regions.get(code) if code else None
        if exact is not None:
            add([exact] if exact.level == 4 else regions.children(exact.code))
        if within:
            add(regions.search(query, within=within, level=4, limit=limit))
            for kec in regions.search(query, within=within, level=3, limit=3):
                add(regions.children(kec.code))
        if len(found) < limit:
            add(regions.search(query, level=4, limit=limit))
        return [Region(r.code, r.name, r.type, r.path) for r in found]

    def warm_up(self, kabupaten: str | None) -> None:
        """Load the region data and indexes (~0.5 s, once) before the operator types."""
        suggest_from_nik("3603321208900007")
        codes.pekerjaan()
        if kabupaten:
            regions.search("xx", within=kabupaten)
        regions.search("xx", level=4, limit=1)
        # The camera code (OpenCV, numpy, app.capture: ~0.2 s of mostly-Python imports) is
        # loaded here rather than on the first photo step, where the imports held the GIL the
        # UI thread needed while the step came up.
        import app.capture.camera
        import app.capture.frameloop
        import app.capture.photo
        import app.ui.devices  # noqa: F401

    def region_name(self, code: str) -> str:
        r = regions.get(code)
        return r.path if r else ""

    def choices(self) -> dict[str, list[str]]:
        return {
            "jenis_kelamin": list(codes.JENIS_KELAMIN),
            "golongan_darah": list(codes.GOLONGAN_DARAH),
            "agama": list(codes.AGAMA),
            "status_perkawinan": list(codes.STATUS_PERKAWINAN),
            "pekerjaan": list(codes.pekerjaan()),
            "kewarganegaraan": list(codes.KEWARGANEGARAAN),
        }
