"""The main window's chrome: its stylesheet and the header's texts (the station, the
signed-in operator)."""

from __future__ import annotations

from app.ui.i18n import tr
from app.ui.services import Operator, StationInfo

STYLE = """
QLabel#title { font-size: 20px; font-weight: 600; }
QFrame#tile { background: #f1f3f4; border-radius: 6px; }
QLabel[big="true"] { font-size: 30px; font-weight: 700; }
QLabel#warning { background: #fce8e6; color: #a50e0e; padding: 8px; border-radius: 4px; }
QLabel#error { color: #c5221f; }
QLabel#hint { color: #5f6368; font-style: italic; }
QFrame#card { background: #ffffff; border: 1px solid #dadce0; border-radius: 8px; padding: 12px; }
"""


def station_text(info: StationInfo | None) -> str:
    if info is None:
        return tr("Memuat stasiun…")
    if info.provisioned:
        return (
            tr("Stasiun %1 · Kecamatan %2")
            .replace("%1", info.name or info.station_id or "")
            .replace("%2", info.kecamatan_name or info.kecamatan_code or "-")
        )
    return tr("Stasiun belum didaftarkan")


def operator_text(operator: Operator | None) -> str:
    if operator is None:
        return ""
    return (
        tr("Operator: %1 (%2)")
        .replace("%1", operator.username)
        .replace("%2", role_text(operator.role))
    )


def role_text(role: str) -> str:
    return {
        "operator": tr("operator"),
        "supervisor": tr("supervisor"),
        "technician": tr("teknisi"),
    }.get(role, role)
