"""Bukti perekaman: the receipt, built from memory at seal time (the station cannot read a
sealed record back). Rendered as HTML on screen, to PDF bytes in memory (QPdfWriter on a
QBuffer; the bytes are written to disk by a background task) or to a printer.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrinter

from app.ui.i18n import tr
from app.ui.services import Sealed


def record_number(uuid: str) -> str:
    """A short number for people to read out; the full UUID is printed beside it."""
    from app.store.fates import receipt_number  # the one rule (the re-record list uses it)

    return receipt_number(uuid)


def mask_nik(nik: str) -> str:
    """The NIK as printed on the receipt: region and serial kept, birth date hidden
    (``3603 32•• •••• 0001``), so a lost receipt does not give the whole number away."""
    digits = "".join(c for c in nik if c.isdigit())
    if len(digits) != 16:
        return ""
    return f"{digits[0:4]} {digits[4:6]}•• •••• {digits[12:16]}"


def qr_data_uri(text: str) -> str:
    """A QR code of ``text`` as a PNG data URI (the counter scans the record id)."""
    import segno

    return str(segno.make(text, error="m", micro=False).png_data_uri(scale=4, border=2))


def receipt_html(sealed: Sealed, operator: str, station: str, qr: str | None = None) -> str:
    """``qr``: the record id's QR code as from ``qr_data_uri`` (made off the UI thread);
    made here if not given."""
    # The record's own seal time (from the store), not when the receipt is drawn.
    when = sealed.sealed_at.astimezone().strftime("%d-%m-%Y %H:%M")
    rows = [
        (tr("Nomor bukti"), sealed.number),
        (tr("Nama"), sealed.nama),
        (tr("NIK"), sealed.nik_masked),
        (tr("Waktu perekaman"), when),
        (
            tr("Kecamatan"),
            f"{sealed.kecamatan_name} ({sealed.kecamatan_code})"
            if sealed.kecamatan_name
            else sealed.kecamatan_code,
        ),
        (tr("Stasiun"), station),
        (tr("Operator"), operator),
        (tr("ID rekaman"), sealed.uuid),
    ]
    body = "".join(
        f"<tr><td>{html.escape(k)}</td><td width='12'></td><td><b>{html.escape(v)}</b></td></tr>"
        for k, v in rows
        if v
    )
    return (
        "<html><body style='font-family:sans-serif'>"
        f"<h2>{html.escape(tr('BUKTI PEREKAMAN KTP-el'))}</h2>"
        f"<table cellspacing='0' cellpadding='2'>{body}</table>"
        f"<p><img src='{qr or qr_data_uri(sealed.uuid)}' width='110' height='110'></p>"
        f"<p>{html.escape(tr('Simpan bukti ini. Tunjukkan saat mengambil KTP-el di kantor kecamatan.'))}</p>"
        "</body></html>"
    )


RECEIPT_FONT_PT = 11


def _document(text: str) -> QTextDocument:
    doc = QTextDocument()
    font = QFont(doc.defaultFont())
    font.setPointSizeF(RECEIPT_FONT_PT)  # the same on paper whatever the desktop's font is
    doc.setDefaultFont(font)
    doc.setHtml(text)
    return doc


def _layout_dpi() -> float:
    """The dpi QTextDocument lays out at without a paint device (Qt's default: the screen's)."""
    screen = QGuiApplication.primaryScreen()
    return screen.logicalDotsPerInchY() if screen is not None else 96.0


def receipt_pdf(text: str) -> bytes:
    """The receipt as PDF bytes (A5 portrait), built in memory."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A5))
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setTitle("Bukti perekaman")
    writer.setCreator("ektp-station")
    doc = _document(text)
    # The document lays text out in screen pixels (the screen's dpi); the writer draws in its
    # own (1200 dpi) pixels. Scale one onto the other: fitting the page size alone printed
    # every point 12.5 times too small (text ~1 pt high in a corner of the page).
    scale = writer.resolution() / _layout_dpi()
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    doc.setTextWidth(rect.width() / scale)
    painter = QPainter(writer)  # (0, 0) is the corner of the paint rect, inside the margins
    painter.scale(scale, scale)
    doc.drawContents(painter, QRectF(0, 0, rect.width() / scale, rect.height() / scale))
    painter.end()
    del writer  # finishes the PDF into the buffer
    buffer.close()
    return bytes(data.data())


def print_receipt(text: str, printer: QPrinter) -> None:
    _document(text).print_(printer)
