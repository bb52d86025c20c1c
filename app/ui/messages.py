"""Plain messages for every failure the operator can meet, keyed by a stable code.

Core code raises typed errors; :mod:`app.ui.station` maps them to these codes, so the text
lives in one place and goes through the translation system.
"""

from __future__ import annotations

from app.ui.i18n import tr


def _messages() -> dict[str, str]:
    # Built on each call so tr() sees the current language.
    return {
        "username-empty": tr("Isi nama pengguna."),
        "password-empty": tr("Isi kata sandi."),
        "pin-empty": tr("Isi PIN kartu operator."),
        "bad-credentials": tr("Nama pengguna atau kata sandi salah."),
        "bad-pin": tr("Kartu atau PIN tidak dikenal."),
        "operator-disabled": tr("Akun operator ini dinonaktifkan."),
        "sign-in-failed": tr("Tidak dapat masuk."),
        "not-provisioned": tr(
            "Stasiun belum didaftarkan ke server. Minta teknisi mendaftarkannya di menu Teknisi."
        ),
        "no-camera": tr(
            "Kamera tidak ditemukan. Periksa kabel kamera atau pilih sumber lain di menu Teknisi."
        ),
        "camera-failed": tr("Kamera berhenti mengirim gambar."),
        "no-reader": tr("Pembaca kartu tidak ditemukan. Periksa kabel pembaca kartu."),
        "reader-failed": tr("Pembaca kartu tidak dapat dibaca."),
        "disk-full": tr(
            "Disk penuh: rekaman tidak dapat disimpan. Ekspor antrian lalu kosongkan disk."
        ),
        "store-failed": tr("Basis data stasiun tidak dapat ditulis."),
        "server-unreachable": tr("Server tidak dapat dihubungi. Rekaman tetap aman di antrian."),
        "bad-code": tr("Kode pendaftaran ditolak server."),
        "bad-url": tr("Alamat server tidak valid."),
        "invalid-biodata": tr("Biodata belum lengkap atau tidak valid."),
        "photo-rejected": tr("Foto belum memenuhi syarat."),
        "behind-refuse": tr(
            "Stasiun terlalu lama tidak mengirim rekaman. Kirim atau ekspor antrian sebelum merekam lagi."
        ),
        "not-allowed": tr("Peran Anda tidak mengizinkan tindakan ini."),
        "supervisor-required": tr("Persetujuan supervisor tidak sah."),
        "bad-kecamatan": tr("Kode kecamatan tidak dikenal."),
        "mirror-failed": tr("Direktori cermin tidak dapat ditulis."),
        "export-failed": tr("Ekspor gagal."),
        "unexpected": tr("Terjadi kesalahan tak terduga."),
    }


def error_text(code: str | None, detail: str = "") -> str:
    if code is None:
        return ""
    text = _messages().get(code) or _messages()["unexpected"]
    return f"{text} ({detail})" if detail else text


def _quality() -> dict[str, str]:
    return {
        "no-face": tr("Wajah tidak terlihat."),
        "no_face": tr("Wajah tidak terlihat."),
        "many-faces": tr("Lebih dari satu wajah: hanya pemohon yang boleh di depan kamera."),
        "many_faces": tr("Lebih dari satu wajah: hanya pemohon yang boleh di depan kamera."),
        "too-small": tr("Wajah terlalu kecil: minta pemohon mendekat."),
        "face_too_small": tr("Wajah terlalu kecil: minta pemohon mendekat."),
        "too-large": tr("Wajah terlalu besar: minta pemohon mundur sedikit."),
        "face_too_large": tr("Wajah terlalu besar: minta pemohon mundur sedikit."),
        "off-centre": tr("Wajah tidak di tengah."),
        "off_centre": tr("Wajah tidak di tengah."),
        "blurry": tr("Gambar buram: minta pemohon diam sejenak."),
        "too-dark": tr("Terlalu gelap: tambah cahaya."),
        "too_dark": tr("Terlalu gelap: tambah cahaya."),
        "too-bright": tr("Terlalu terang: kurangi cahaya."),
        "too_bright": tr("Terlalu terang: kurangi cahaya."),
    }


def quality_text(code: str, fallback: str) -> str:
    """A photo-quality reason in the UI language; unknown codes show capture's own text."""
    return _quality().get(code, fallback)
