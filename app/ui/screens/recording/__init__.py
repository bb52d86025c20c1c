"""Perekaman baru, one module per step: ``biodata``, ``photo``, ``signature``, ``card``,
``review``, then ``receipt_page``; ``draft`` holds them as one resident, ``screen`` leads
the operator through them."""

from app.ui.screens.recording.biodata import BiodataStep
from app.ui.screens.recording.card import CardStep
from app.ui.screens.recording.draft import Draft
from app.ui.screens.recording.photo import PhotoStep
from app.ui.screens.recording.receipt_page import ReceiptStep
from app.ui.screens.recording.review import ReviewStep
from app.ui.screens.recording.screen import RecordingScreen
from app.ui.screens.recording.signature import SignatureStep

__all__ = [
    "BiodataStep",
    "CardStep",
    "Draft",
    "PhotoStep",
    "ReceiptStep",
    "RecordingScreen",
    "ReviewStep",
    "SignatureStep",
]
