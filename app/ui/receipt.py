"""Bukti perekaman: the receipt, built from memory at seal time (the station cannot read a
sealed record back). Rendered as HTML on screen, to PDF bytes in memory (QPdfWriter on a
QBuffer; the bytes are written to disk by a background task) or to a printer.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtPrintSupport import QPrinter

from app.ui.i18n import tr
from app.ui.services import Sealed


def record_number(uuid: str) -> str:
    """A short number for people to read out; the full UUID is printed beside it."""
    hexpart = uuid.replace("-", "").upper()
    tail = hexpart[-12:]
    return f"{tail[0:4]}-{tail[4:8]}-{tail[8:12]}"


def receipt_html(sealed: Sealed, operator: str, station: str) -> str:
    when = sealed.sealed_at.astimezone().strftime("%d-%m-%Y %H:%M")
    rows = [
        (tr("Nomor rekaman"), sealed.number),
        (tr("Nama"), sealed.nama),
        (tr("Waktu"), when),
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
        f"<tr><td style='padding:4px 12px 4px 0'>{html.escape(k)}</td>"
        f"<td style='padding:4px 0'><b>{html.escape(v)}</b></td></tr>"
        for k, v in rows
    )
    return (
        "<html><body style='font-family:sans-serif'>"
        f"<h2>{html.escape(tr('BUKTI PEREKAMAN KTP-EL'))}</h2>"
        f"<table>{body}</table>"
        f"<p>{html.escape(tr('Simpan bukti ini. Tunjukkan saat mengambil KTP-el di kantor kecamatan.'))}</p>"
        "</body></html>"
    )


def _document(text: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setHtml(text)
    return doc


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
    layout = writer.pageLayout()
    rect = layout.paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    doc.print_(writer)
    del writer  # finishes the PDF into the buffer
    buffer.close()
    return bytes(data.data())


def print_receipt(text: str, printer: QPrinter) -> None:
    _document(text).print_(printer)
