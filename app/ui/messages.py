"""Plain messages for every failure the operator can meet, keyed by the station's error
codes (:class:`app.errors.Code`).

Core code raises typed errors; :func:`app.errors.funnel` turns them into the station's errors
(by type), whose ``code`` picks the sentence here, so the text lives in one place and goes
through the translation system. Whether an error's detail follows the sentence is in
:data:`app.errors.TABLE`, which the command line reads for its exit codes.
"""

from __future__ import annotations

from app.errors import TABLE, Detail
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
        "camera-failed": tr(
            "Kamera berhenti mengirim gambar. Periksa kabel kamera; bila tetap gelap, "
            "tutup lalu buka lagi langkah Foto."
        ),
        "no-reader": tr("Pembaca kartu tidak ditemukan. Periksa kabel pembaca kartu."),
        "reader-failed": tr("Kartu tidak dapat dibaca. Angkat kartu, lalu tempelkan lagi."),
        "disk-full": tr(
            "Disk penuh: rekaman tidak dapat disimpan. Ekspor antrian lalu kosongkan disk."
        ),
        "store-failed": tr(
            "Data stasiun tidak dapat ditulis. Coba lagi sebentar lagi; bila berulang, "
            "hubungi teknisi."
        ),
        "server-unreachable": tr(
            "Server tidak dapat dihubungi. Rekaman tetap aman di antrian; periksa jaringan."
        ),
        "bad-code": tr("Kode pendaftaran ditolak server. Minta kode baru ke kantor pusat."),
        "bad-url": tr("Alamat server tidak valid. Tulis seperti https://server.contoh.go.id"),
        "code-empty": tr("Isi kode pendaftaran dari kantor pusat."),
        # The station's key is already another station's at the server (a second code after
        # a lost answer): the detail names that station; its first code works again.
        "key-in-use": tr(
            "Kunci stasiun ini sudah terdaftar di server untuk stasiun lain. Jalankan "
            "pendaftaran lagi dengan kode yang dipakai pertama kali."
        ),
        # Set up by another program (`ektp-station provision` / `init`) while the code was
        # being redeemed: what the server accepted was not stored (app.sync.provision.save).
        "identity-changed": tr(
            "Stasiun ini sudah didaftarkan oleh program lain saat kode diproses, jadi "
            "pendaftaran ini tidak disimpan. Periksa data stasiun; bila perlu, daftarkan lagi "
            "dengan kode baru."
        ),
        "invalid-biodata": tr(
            "Biodata belum lengkap atau tidak valid: perbaiki isian yang bertanda merah."
        ),
        "photo-rejected": tr("Foto belum memenuhi syarat. Ambil foto lagi."),
        "behind-refuse": tr(
            "Stasiun terlalu lama tidak mengirim rekaman. Kirim atau ekspor antrian sebelum merekam lagi."
        ),
        "not-allowed": tr("Peran Anda tidak mengizinkan tindakan ini."),
        "supervisor-required": tr("Persetujuan supervisor tidak sah."),
        "approver-is-mover": tr(
            "Pemindahan harus disetujui supervisor lain, bukan oleh Anda sendiri."
        ),
        "pdf-on-station": tr(
            "Bukti menyebut nama penduduk: simpan ke flashdisk, bukan ke komputer ini "
            "(kecuali supervisor mengizinkannya)."
        ),
        "clock-implausible": tr(
            "Jam komputer tidak masuk akal (lebih awal dari perekaman terakhir atau dari "
            "tanggal program). Perbaiki tanggal dan jam dulu; tidak ada yang disegel."
        ),
        "card-in-use": tr("Kartu ini sudah dikaitkan dengan akun lain."),
        "bad-pin-format": tr("PIN harus 4 sampai 8 angka."),
        "pin-mismatch": tr("Kedua PIN tidak sama. Ketik ulang."),
        "no-card-on-reader": tr("Tempelkan kartu petugas pada pembaca dulu."),
        "sign-in-wait": tr(
            "Terlalu banyak percobaan masuk yang gagal. Tunggu sebentar, lalu coba lagi."
        ),
        "account-locked": tr(
            "Akun dikunci karena terlalu banyak percobaan masuk yang gagal. Minta supervisor "
            "atau teknisi membukanya."
        ),
        "bad-kecamatan": tr("Kecamatan tidak dikenal. Ketik nama atau kode kecamatan."),
        "already-there": tr("Kit sudah berada di kecamatan ini."),
        "mirror-failed": tr(
            "Flashdisk salinan cadangan tidak dapat ditulis. Periksa flashdisk (terpasang, "
            "tidak penuh, tidak terkunci)."
        ),
        "export-failed": tr(
            "Ekspor gagal. Periksa flashdisk (terpasang, tidak penuh, tidak terkunci), lalu "
            "coba lagi."
        ),
        "export-conflict": tr(
            "Folder tujuan sudah berisi berkas lain dengan nama yang sama. Pilih folder lain."
        ),
        "export-stopped": tr("Ekspor dihentikan. Jalankan lagi untuk menyelesaikannya."),
        "pdf-failed": tr(
            "PDF tidak dapat disimpan. Periksa flashdisk (terpasang, tidak penuh, tidak "
            "terkunci), lalu coba lagi."
        ),
        # The card check at the kelurahan desk (Cek KTP-el).
        "card-check-station": tr(
            "Stasiun ini adalah stasiun cek KTP-el: perekaman tidak dilakukan di sini. "
            "Gunakan Cek KTP-el (F6); perekaman dilakukan di kit perekaman."
        ),
        "not-a-verifier": tr(
            "Stasiun ini adalah kit perekaman, bukan stasiun cek KTP-el: pusat tidak menjawab "
            "pengecekan kartu dari stasiun ini."
        ),
        "station-revoked": tr("Stasiun ini sudah dicabut oleh kantor pusat. Hubungi teknisi."),
        "check-rate-limited": tr(
            "Terlalu banyak pengecekan dalam satu menit. Tunggu sebentar, lalu coba lagi."
        ),
        "centre-offline": tr(
            "Pusat tidak dapat dihubungi: kartu belum dapat dicek. Periksa jaringan, lalu "
            "coba lagi."
        ),
        "no-ktp-on-reader": tr("Tempelkan KTP-el penduduk pada pembaca kartu."),
        "bad-input": tr("Isian tidak valid. Periksa lalu coba lagi."),
        "key-missing": tr(
            "Kunci stasiun tidak ditemukan di komputer ini. Hubungi teknisi; jangan merekam dulu."
        ),
        "unexpected": tr(
            "Terjadi kesalahan tak terduga. Coba lagi; bila berulang, hubungi teknisi."
        ),
    }


# Codes whose detail is meant for the operator (it names the station holding the key): shown
# after the sentence. Any other detail is the core's English (an exception's text); it goes
# to the log and to a tooltip for the technician (``error_detail``), not into the sentence.
DETAIL_SHOWN = frozenset(code for code, t in TABLE.items() if t.detail is Detail.SHOWN)


def error_text(code: str | None, detail: str = "") -> str:
    if code is None:
        return ""
    text = _messages().get(code) or _messages()["unexpected"]
    return f"{text} ({detail})" if detail and code in DETAIL_SHOWN else text


def error_detail(detail: str) -> str:
    """A technical detail for a tooltip, labelled as such (it stays in English)."""
    return tr("Detail teknis: %1").replace("%1", detail) if detail else ""


def sync_error_text(raw: str | None, rejected: bool = False) -> str:
    """A sync error (the worker's or a record's ``last_error``: English, for the log) as a
    sentence in the UI language that says what happens next or what to do."""
    if not raw and not rejected:
        return ""
    if rejected:
        return tr("Ditolak server. Teknisi dapat memeriksa lalu mengirim ulang.")
    low = (raw or "").lower()
    if "http 401" in low or "http 403" in low or "revoked" in low:
        return tr(
            "Server menolak stasiun ini. Hubungi teknisi untuk memeriksa pendaftaran stasiun."
        )
    if "disk" in low and "full" in low:
        return _messages()["disk-full"]
    if "locked" in low or "database" in low or "sqlite" in low:
        return _messages()["store-failed"]
    if any(
        word in low
        for word in ("timeout", "unreachable", "upload failed", "connect", "network", "reset")
    ):
        return tr(
            "Server tidak menjawab. Rekaman dikirim lagi otomatis; bila berlanjut, periksa "
            "jaringan."
        )
    return tr("Pengiriman gagal. Rekaman dikirim lagi otomatis; bila berlanjut, hubungi teknisi.")


def _quality() -> dict[str, str]:
    # The codes of app.capture.quality, in the order it reports them.
    return {
        "no_face": tr("Wajah tidak terlihat."),
        "many_faces": tr("Lebih dari satu wajah: hanya pemohon yang boleh di depan kamera."),
        "face_too_small": tr("Wajah terlalu kecil: minta pemohon mendekat."),
        "face_too_close": tr("Wajah terlalu dekat: minta pemohon mundur sedikit."),
        "off_centre": tr("Wajah tidak di tengah."),
        "blurry": tr("Gambar buram: minta pemohon diam sejenak."),
        "too_dark": tr("Terlalu gelap: tambah cahaya."),
        "too_bright": tr("Terlalu terang: kurangi cahaya."),
    }


def quality_text(code: str, fallback: str) -> str:
    """A photo-quality reason in the UI language; unknown codes show capture's own text."""
    return _quality().get(code, fallback)


def _issues() -> dict[str, str]:
    # Codes of app.domain.biodata / app.domain.nik issues.
    return {
        "required": tr("Wajib diisi."),
        "type": tr("Isian tidak valid."),
        "not_in_list": tr("Pilih salah satu dari daftar."),
        "characters": tr("Berisi karakter yang tidak diperbolehkan."),
        "length": tr("Panjang isian tidak sesuai."),
        "date": tr("Tanggal ini tidak ada di kalender."),
        "future": tr("Tanggal lahir di masa depan."),
        "too_old": tr("Tanggal lahir lebih dari 130 tahun lalu."),
        "unknown_region": tr("Kode wilayah tidak ada dalam daftar Kemendagri."),
        "province": tr("Kode provinsi NIK (digit 1-2) tidak boleh 00."),
        "regency": tr("Kode kabupaten NIK (digit 3-4) tidak boleh 00."),
        "district": tr("Kode kecamatan NIK (digit 5-6) tidak boleh 00."),
        "day": tr("Tanggal lahir dalam NIK (digit 7-8) harus 01-31 atau 41-71."),
        "month": tr("Bulan lahir dalam NIK (digit 9-10) harus 01-12."),
        "serial": tr("Nomor urut NIK (digit 13-16) tidak boleh 0000."),
        "nik_region_unknown": tr("Kode wilayah NIK bukan kecamatan saat ini (tetap diterima)."),
        "nik_birth_date_mismatch": tr("Tanggal lahir berbeda dengan yang tercantum di NIK."),
        "nik_sex_mismatch": tr("Jenis kelamin berbeda dengan yang tercantum di NIK."),
        "usia_16": tr("Usia 16 dan belum kawin: direkam sekarang, KTP-el terbit pada usia 17."),
        "under_age": tr("Belum cukup umur untuk KTP-el (17 tahun atau sudah kawin)."),
    }


def _field_formats() -> dict[str, str]:
    return {
        "nik": tr("NIK harus 16 angka."),
        "no_kk": tr("No. KK harus 16 angka."),
        "tanggal_lahir": tr("Tulis tanggal sebagai HH-BB-TTTT, misalnya 12-08-1990."),
        "rt": tr("RT berupa angka 001 sampai 999."),
        "rw": tr("RW berupa angka 001 sampai 999."),
        "kode_wilayah": tr("Pilih kelurahan/desa dari hasil pencarian."),
    }


def issue_text(field: str, code: str, fallback: str) -> str:
    """A biodata issue in the UI language (the domain's English message as the fallback)."""
    if code == "format":
        return _field_formats().get(field, fallback)
    return _issues().get(code, fallback)
