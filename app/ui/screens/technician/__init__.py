"""Teknisi: ``screen`` (registration, mirror, language, moving the kit) with its sections
``devices`` (camera and reader tests) and ``staff_cards``."""

from app.ui.screens.technician.devices import DevicesSection
from app.ui.screens.technician.screen import TechnicianScreen, find_kecamatan
from app.ui.screens.technician.staff_cards import StaffCardsSection

__all__ = ["DevicesSection", "StaffCardsSection", "TechnicianScreen", "find_kecamatan"]
