<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US" sourcelanguage="id_ID">
    <context>
        <name>ektp</name>
        <message>
            <location filename="app/ui/chrome.py" line="29" />
            <source>Stasiun belum didaftarkan</source>
            <translation>Station not registered</translation>
        </message>
        <message>
            <location filename="app/ui/chrome.py" line="22" />
            <source>Memuat stasiun…</source>
            <translation>Loading station…</translation>
        </message>
        <message>
            <location filename="app/ui/chrome.py" line="44" />
            <source>operator</source>
            <translation>operator</translation>
        </message>
        <message>
            <location filename="app/ui/chrome.py" line="45" />
            <source>supervisor</source>
            <translation>supervisor</translation>
        </message>
        <message>
            <location filename="app/ui/chrome.py" line="46" />
            <source>teknisi</source>
            <translation>technician</translation>
        </message>
        <message>
            <location filename="app/ui/chrome.py" line="36" />
            <source>Operator: %1 (%2)</source>
            <translation>Operator: %1 (%2)</translation>
        </message>
        <message>
            <location filename="app/ui/chrome.py" line="25" />
            <source>Stasiun %1 · Kecamatan %2</source>
            <translation>Station %1 · Kecamatan %2</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="521" />
            <source>Perekaman KTP-el</source>
            <translation>e-KTP recording</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="522" />
            <source>Navigasi</source>
            <translation>Navigation</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="523" />
            <source>Beranda (F2)</source>
            <translation>Home (F2)</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="524" />
            <source>Perekaman baru (F3)</source>
            <translation>New recording (F3)</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="525" />
            <source>Antrian (F4)</source>
            <translation>Queue (F4)</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="526" />
            <source>Teknisi (F5)</source>
            <translation>Technician (F5)</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="527" />
            <source>Kunci (Ctrl+L)</source>
            <translation>Lock (Ctrl+L)</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="528" />
            <source>Keluar</source>
            <translation>Sign out</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="415" />
            <source>&amp;Buang dan keluar</source>
            <translation>&amp;Discard and sign out</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="416" />
            <source>&amp;Jangan keluar</source>
            <translation>&amp;Stay signed in</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="547" />
            <source>&amp;Buang dan tutup</source>
            <translation>&amp;Discard and close</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="548" />
            <source>&amp;Jangan tutup</source>
            <translation>&amp;Keep it open</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="414" />
            <source>Keluar dan buang rekaman yang sedang dibuat?</source>
            <translation>Sign out and discard the recording in progress?</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="546" />
            <source>Tutup aplikasi dan buang rekaman yang belum selesai?</source>
            <translation>Close the application and discard the unfinished recording?</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="412" />
            <source>Keluar dan buang rekaman %1?</source>
            <translation>Sign out and discard the recording of %1?</translation>
        </message>
        <message>
            <location filename="app/ui/main_window.py" line="544" />
            <source>Tutup aplikasi dan buang rekaman %1?</source>
            <translation>Close the application and discard the recording of %1?</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="183" />
            <source>Pengiriman gagal. Rekaman dikirim lagi otomatis; bila berlanjut, hubungi teknisi.</source>
            <translation>Sending failed. The records will be sent again automatically; if this goes on, call the technician.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="19" />
            <source>Isi nama pengguna.</source>
            <translation>Enter the username.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="20" />
            <source>Isi kata sandi.</source>
            <translation>Enter the password.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="21" />
            <source>Isi PIN kartu operator.</source>
            <translation>Enter the operator card PIN.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="22" />
            <source>Nama pengguna atau kata sandi salah.</source>
            <translation>Wrong username or password.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="23" />
            <source>Kartu atau PIN tidak dikenal.</source>
            <translation>Unknown card or wrong PIN.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="24" />
            <source>Akun operator ini dinonaktifkan.</source>
            <translation>This operator account is disabled.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="25" />
            <source>Tidak dapat masuk.</source>
            <translation>Cannot sign in.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="26" />
            <source>Stasiun belum didaftarkan ke server. Minta teknisi mendaftarkannya di menu Teknisi.</source>
            <translation>The station is not registered with the server yet. Ask a technician to register it under Technician.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="29" />
            <source>Kamera tidak ditemukan. Periksa kabel kamera atau pilih sumber lain di menu Teknisi.</source>
            <translation>No camera found. Check the camera cable or choose another source under Technician.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="32" />
            <source>Kamera berhenti mengirim gambar. Periksa kabel kamera; bila tetap gelap, tutup lalu buka lagi langkah Foto.</source>
            <translation>The camera stopped sending pictures. Check the camera cable; if it stays dark, leave the Photo step and open it again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="36" />
            <source>Pembaca kartu tidak ditemukan. Periksa kabel pembaca kartu.</source>
            <translation>No card reader found. Check the card reader cable.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="37" />
            <source>Kartu tidak dapat dibaca. Angkat kartu, lalu tempelkan lagi.</source>
            <translation>The card cannot be read. Lift the card, then place it again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="38" />
            <source>Disk penuh: rekaman tidak dapat disimpan. Ekspor antrian lalu kosongkan disk.</source>
            <translation>Disk full: the recording cannot be saved. Export the queue, then free some disk space.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="41" />
            <source>Data stasiun tidak dapat ditulis. Coba lagi sebentar lagi; bila berulang, hubungi teknisi.</source>
            <translation>The station data cannot be written. Try again in a moment; if it happens again, call the technician.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="45" />
            <source>Server tidak dapat dihubungi. Rekaman tetap aman di antrian; periksa jaringan.</source>
            <translation>The server cannot be reached. The records are safe in the queue; check the network.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="48" />
            <source>Kode pendaftaran ditolak server. Minta kode baru ke kantor pusat.</source>
            <translation>The server refused the registration code. Ask the central office for a new code.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="49" />
            <source>Alamat server tidak valid. Tulis seperti https://server.contoh.go.id</source>
            <translation>The server address is not valid. Write it like https://server.contoh.go.id</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="50" />
            <source>Isi kode pendaftaran dari kantor pusat.</source>
            <translation>Enter the registration code from the central office.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="53" />
            <source>Kunci stasiun ini sudah terdaftar di server untuk stasiun lain. Jalankan pendaftaran lagi dengan kode yang dipakai pertama kali.</source>
            <translation>This station's key is already registered at the server for another station. Run the registration again with the code used the first time.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="59" />
            <source>Stasiun ini sudah didaftarkan oleh program lain saat kode diproses, jadi pendaftaran ini tidak disimpan. Periksa data stasiun; bila perlu, daftarkan lagi dengan kode baru.</source>
            <translation>This station was registered by another program while the code was being processed, so this registration was not saved. Check the station details; if needed, register again with a new code.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="64" />
            <source>Biodata belum lengkap atau tidak valid: perbaiki isian yang bertanda merah.</source>
            <translation>The personal data is incomplete or invalid: correct the fields marked in red.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="67" />
            <source>Foto belum memenuhi syarat. Ambil foto lagi.</source>
            <translation>The photo does not meet the requirements. Take it again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="68" />
            <source>Stasiun terlalu lama tidak mengirim rekaman. Kirim atau ekspor antrian sebelum merekam lagi.</source>
            <translation>The station has not sent its recordings for too long. Send or export the queue before recording again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="71" />
            <source>Peran Anda tidak mengizinkan tindakan ini.</source>
            <translation>Your role does not allow this.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="72" />
            <source>Persetujuan supervisor tidak sah.</source>
            <translation>The supervisor approval is not valid.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="73" />
            <source>Pemindahan harus disetujui supervisor lain, bukan oleh Anda sendiri.</source>
            <translation>The move must be approved by another supervisor, not by yourself.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="76" />
            <source>Bukti menyebut nama penduduk: simpan ke flashdisk, bukan ke komputer ini (kecuali supervisor mengizinkannya).</source>
            <translation>The receipt names the resident: save it to a USB stick, not to this computer (unless a supervisor allows it).</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="80" />
            <source>Jam komputer tidak masuk akal (lebih awal dari perekaman terakhir atau dari tanggal program). Perbaiki tanggal dan jam dulu; tidak ada yang disegel.</source>
            <translation>The computer's clock cannot be right (earlier than the last recording or than the program's date). Set the date and time first; nothing was sealed.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="84" />
            <source>Kartu ini sudah dikaitkan dengan akun lain.</source>
            <translation>This card is already linked to another account.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="85" />
            <source>PIN harus 4 sampai 8 angka.</source>
            <translation>The PIN must be 4 to 8 digits.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="86" />
            <source>Kedua PIN tidak sama. Ketik ulang.</source>
            <translation>The two PINs differ. Type them again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="87" />
            <source>Tempelkan kartu petugas pada pembaca dulu.</source>
            <translation>Place the staff card on the reader first.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="88" />
            <source>Terlalu banyak percobaan masuk yang gagal. Tunggu sebentar, lalu coba lagi.</source>
            <translation>Too many failed sign-in attempts. Wait a moment, then try again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="91" />
            <source>Akun dikunci karena terlalu banyak percobaan masuk yang gagal. Minta supervisor atau teknisi membukanya.</source>
            <translation>The account is locked after too many failed sign-ins. Ask a supervisor or technician to unlock it.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="95" />
            <source>Kecamatan tidak dikenal. Ketik nama atau kode kecamatan.</source>
            <translation>Unknown district. Type the district name or code.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="96" />
            <source>Kit sudah berada di kecamatan ini.</source>
            <translation>The kit is already in this kecamatan.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="97" />
            <source>Flashdisk salinan cadangan tidak dapat ditulis. Periksa flashdisk (terpasang, tidak penuh, tidak terkunci).</source>
            <translation>The backup copy USB drive cannot be written. Check the drive (plugged in, not full, not locked).</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="101" />
            <source>Ekspor gagal. Periksa flashdisk (terpasang, tidak penuh, tidak terkunci), lalu coba lagi.</source>
            <translation>Export failed. Check the USB drive (plugged in, not full, not locked), then try again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="105" />
            <source>Folder tujuan sudah berisi berkas lain dengan nama yang sama. Pilih folder lain.</source>
            <translation>The target folder already holds another file with the same name. Choose another folder.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="108" />
            <source>Ekspor dihentikan. Jalankan lagi untuk menyelesaikannya.</source>
            <translation>The export was stopped. Run it again to finish it.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="109" />
            <source>PDF tidak dapat disimpan. Periksa flashdisk (terpasang, tidak penuh, tidak terkunci), lalu coba lagi.</source>
            <translation>The PDF cannot be saved. Check the USB drive (plugged in, not full, not locked), then try again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="114" />
            <source>Stasiun ini adalah stasiun cek KTP-el: perekaman tidak dilakukan di sini. Gunakan Cek KTP-el (F6); perekaman dilakukan di kit perekaman.</source>
            <translation>This is a card-check station: no recording is done here. Use Cek KTP-el (F6); recordings are made on a recording kit.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="118" />
            <source>Stasiun ini adalah kit perekaman, bukan stasiun cek KTP-el: pusat tidak menjawab pengecekan kartu dari stasiun ini.</source>
            <translation>This station is a recording kit, not a card-check station: the centre does not answer card checks from it.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="122" />
            <source>Stasiun ini sudah dicabut oleh kantor pusat. Hubungi teknisi.</source>
            <translation>The central office has revoked this station. Call the technician.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="123" />
            <source>Terlalu banyak pengecekan dalam satu menit. Tunggu sebentar, lalu coba lagi.</source>
            <translation>Too many checks in one minute. Wait a moment, then try again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="126" />
            <source>Pusat tidak dapat dihubungi: kartu belum dapat dicek. Periksa jaringan, lalu coba lagi.</source>
            <translation>The centre cannot be reached: the card cannot be checked yet. Check the network, then try again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="130" />
            <source>Tempelkan KTP-el penduduk pada pembaca kartu.</source>
            <translation>Put the resident's e-KTP on the card reader.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="131" />
            <source>Isian tidak valid. Periksa lalu coba lagi.</source>
            <translation>Invalid input. Check it and try again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="132" />
            <source>Kunci stasiun tidak ditemukan di komputer ini. Hubungi teknisi; jangan merekam dulu.</source>
            <translation>The station's key is not on this computer. Call a technician; do not record for now.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="135" />
            <source>Terjadi kesalahan tak terduga. Coba lagi; bila berulang, hubungi teknisi.</source>
            <translation>An unexpected error occurred. Try again; if it happens again, call the technician.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="165" />
            <source>Ditolak server. Teknisi dapat memeriksa lalu mengirim ulang.</source>
            <translation>Refused by the server. A technician can check it and send it again.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="168" />
            <source>Server menolak stasiun ini. Hubungi teknisi untuk memeriksa pendaftaran stasiun.</source>
            <translation>The server refuses this station. Call the technician to check the station registration.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="179" />
            <source>Server tidak menjawab. Rekaman dikirim lagi otomatis; bila berlanjut, periksa jaringan.</source>
            <translation>The server does not answer. The records will be sent again automatically; if this goes on, check the network.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="189" />
            <source>Wajah tidak terlihat.</source>
            <translation>No face visible.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="190" />
            <source>Lebih dari satu wajah: hanya pemohon yang boleh di depan kamera.</source>
            <translation>More than one face: only the applicant may be in front of the camera.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="191" />
            <source>Wajah terlalu kecil: minta pemohon mendekat.</source>
            <translation>Face too small: ask the applicant to come closer.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="192" />
            <source>Wajah terlalu dekat: minta pemohon mundur sedikit.</source>
            <translation>Face too close: ask the applicant to move back a little.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="193" />
            <source>Wajah tidak di tengah.</source>
            <translation>Face not centred.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="194" />
            <source>Gambar buram: minta pemohon diam sejenak.</source>
            <translation>Blurry picture: ask the applicant to hold still.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="195" />
            <source>Terlalu gelap: tambah cahaya.</source>
            <translation>Too dark: add light.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="196" />
            <source>Terlalu terang: kurangi cahaya.</source>
            <translation>Too bright: reduce the light.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="208" />
            <source>Wajib diisi.</source>
            <translation>Required.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="209" />
            <source>Isian tidak valid.</source>
            <translation>Not a valid entry.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="210" />
            <source>Pilih salah satu dari daftar.</source>
            <translation>Choose one from the list.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="211" />
            <source>Berisi karakter yang tidak diperbolehkan.</source>
            <translation>Contains characters that are not allowed.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="212" />
            <source>Panjang isian tidak sesuai.</source>
            <translation>The length is not right.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="213" />
            <source>Tanggal ini tidak ada di kalender.</source>
            <translation>This date does not exist in the calendar.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="214" />
            <source>Tanggal lahir di masa depan.</source>
            <translation>The birth date is in the future.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="215" />
            <source>Tanggal lahir lebih dari 130 tahun lalu.</source>
            <translation>The birth date is more than 130 years ago.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="216" />
            <source>Kode wilayah tidak ada dalam daftar Kemendagri.</source>
            <translation>The region code is not in the Kemendagri list.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="217" />
            <source>Kode provinsi NIK (digit 1-2) tidak boleh 00.</source>
            <translation>The NIK province code (digits 1-2) cannot be 00.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="218" />
            <source>Kode kabupaten NIK (digit 3-4) tidak boleh 00.</source>
            <translation>The NIK regency code (digits 3-4) cannot be 00.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="219" />
            <source>Kode kecamatan NIK (digit 5-6) tidak boleh 00.</source>
            <translation>The NIK district code (digits 5-6) cannot be 00.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="220" />
            <source>Tanggal lahir dalam NIK (digit 7-8) harus 01-31 atau 41-71.</source>
            <translation>The day of birth in the NIK (digits 7-8) must be 01-31 or 41-71.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="221" />
            <source>Bulan lahir dalam NIK (digit 9-10) harus 01-12.</source>
            <translation>The month of birth in the NIK (digits 9-10) must be 01-12.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="222" />
            <source>Nomor urut NIK (digit 13-16) tidak boleh 0000.</source>
            <translation>The NIK serial number (digits 13-16) cannot be 0000.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="223" />
            <source>Kode wilayah NIK bukan kecamatan saat ini (tetap diterima).</source>
            <translation>The NIK region code is not a current kecamatan (accepted anyway).</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="224" />
            <source>Tanggal lahir berbeda dengan yang tercantum di NIK.</source>
            <translation>The birth date differs from the one in the NIK.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="225" />
            <source>Jenis kelamin berbeda dengan yang tercantum di NIK.</source>
            <translation>The sex differs from the one in the NIK.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="226" />
            <source>Usia 16 dan belum kawin: direkam sekarang, KTP-el terbit pada usia 17.</source>
            <translation>Age 16 and not married: recorded now, the e-KTP is issued at 17.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="227" />
            <source>Belum cukup umur untuk KTP-el (17 tahun atau sudah kawin).</source>
            <translation>Too young for an e-KTP (17 years or married).</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="233" />
            <source>NIK harus 16 angka.</source>
            <translation>The NIK must be 16 digits.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="234" />
            <source>No. KK harus 16 angka.</source>
            <translation>The family card number must be 16 digits.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="235" />
            <source>Tulis tanggal sebagai HH-BB-TTTT, misalnya 12-08-1990.</source>
            <translation>Write the date as DD-MM-YYYY, for example 12-08-1990.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="236" />
            <source>RT berupa angka 001 sampai 999.</source>
            <translation>RT is a number from 001 to 999.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="237" />
            <source>RW berupa angka 001 sampai 999.</source>
            <translation>RW is a number from 001 to 999.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="238" />
            <source>Pilih kelurahan/desa dari hasil pencarian.</source>
            <translation>Choose the village/kelurahan from the search results.</translation>
        </message>
        <message>
            <location filename="app/ui/messages.py" line="156" />
            <source>Detail teknis: %1</source>
            <translation>Technical detail: %1</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="55" />
            <source>Nomor bukti</source>
            <translation>Receipt number</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="56" />
            <source>Nama</source>
            <translation>Name</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="57" />
            <source>NIK</source>
            <translation>NIK</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="58" />
            <source>Waktu perekaman</source>
            <translation>Recorded at</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="60" />
            <source>Kecamatan</source>
            <translation>Kecamatan</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="65" />
            <source>Stasiun</source>
            <translation>Station</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="66" />
            <source>Operator</source>
            <translation>Operator</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="67" />
            <source>ID rekaman</source>
            <translation>Record ID</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="76" />
            <source>BUKTI PEREKAMAN KTP-el</source>
            <translation>KTP-el RECORDING RECEIPT</translation>
        </message>
        <message>
            <location filename="app/ui/receipt.py" line="79" />
            <source>Simpan bukti ini. Tunjukkan saat mengambil KTP-el di kantor kecamatan.</source>
            <translation>Keep this receipt. Show it when you collect your e-KTP at the kecamatan office.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="41" />
            <source>Direkam ulang, belum diproses pusat</source>
            <translation>Recorded again, not yet processed by the centre</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="153" />
            <source>Foto</source>
            <translation>Photo</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="188" />
            <source>Menanyakan ke pusat…</source>
            <translation>Asking the centre…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="235" />
            <source>Kartu ini terhubung ke rekaman berikut. Cocokkan foto dan nama dengan penduduk.</source>
            <translation>This card is linked to the record below. Compare the photo and the name with the resident.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="256" />
            <source>Cek KTP-el</source>
            <translation>Check e-KTP</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="260" />
            <source>Tempelkan KTP-el penduduk pada pembaca kartu, atau ketik UID kartu lalu tekan Cek. Hasilnya hanya tampil di layar dan hilang setelah Selesai.</source>
            <translation>Put the resident's e-KTP on the card reader, or type the card's UID and press Check. The answer is only shown on screen and is gone after Done.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="265" />
            <source>UID kartu:</source>
            <translation>Card UID:</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="266" />
            <source>&amp;Cek</source>
            <translation>&amp;Check</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="267" />
            <source>&amp;Selesai</source>
            <translation>&amp;Done</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="47" />
            <source>PERHATIAN: kartu ini dilaporkan HILANG.</source>
            <translation>ATTENTION: this card was reported LOST.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="48" />
            <source>PERHATIAN: kartu ini sudah DIGANTI dengan kartu baru.</source>
            <translation>ATTENTION: this card has been REPLACED by a new card.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="232" />
            <source>Kartu ini tidak terhubung ke rekaman mana pun di pusat.</source>
            <translation>This card is not linked to any record at the centre.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="258" />
            <source>Cek KTP-el (F6)</source>
            <translation>Check e-KTP (F6)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="270" />
            <source>Status rekaman</source>
            <translation>Record status</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="271" />
            <source>Kecamatan perekaman</source>
            <translation>Kecamatan of recording</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="272" />
            <source>Tanggal perekaman</source>
            <translation>Date of recording</translation>
        </message>
        <message>
            <location filename="app/ui/screens/card_check.py" line="274" />
            <source>UID kartu</source>
            <translation>Card UID</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="33" />
            <source>Sinkronisasi belum berjalan</source>
            <translation>Sync not running yet</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="48" />
            <source>Luring</source>
            <translation>Offline</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="54" />
            <source>Sinkronisasi terhenti</source>
            <translation>Sync stopped</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="56" />
            <source>Tanpa server: kirim antrian lewat ekspor</source>
            <translation>No server: send the queue by export</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="36" />
            <source>Daring: semua rekaman terkirim</source>
            <translation>Online: every record sent</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="300" />
            <source>Beranda</source>
            <translation>Home</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="301" />
            <source>perekaman hari ini</source>
            <translation>recordings today</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="302" />
            <source>menunggu dikirim</source>
            <translation>waiting to be sent</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="303" />
            <source>Stasiun:</source>
            <translation>Station:</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="304" />
            <source>Disk:</source>
            <translation>Disk:</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="305" />
            <source>Salinan cadangan:</source>
            <translation>Backup copy:</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="306" />
            <source>&amp;Kirim sekarang</source>
            <translation>&amp;Send now</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="308" />
            <source>Lihat &amp;antrian</source>
            <translation>View &amp;queue</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="309" />
            <source>&amp;Cetak ulang bukti</source>
            <translation>&amp;Reprint receipt</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="310" />
            <source>Perlu rekam &amp;ulang</source>
            <translation>To re-&amp;record</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="39" />
            <source>Daring: %1 rekaman menunggu dikirim</source>
            <translation>Online: %1 records waiting to be sent</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="208" />
            <source>Tidak ada salinan cadangan (flashdisk)</source>
            <translation>No backup copy (USB drive)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="267" />
            <source>Belum didaftarkan ke server</source>
            <translation>Not registered with a server yet</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="285" />
            <source>Tekan F3 untuk mulai merekam.</source>
            <translation>Press F3 to start a recording.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="294" />
            <source>Perekaman &amp;baru</source>
            <translation>&amp;New recording</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="294" />
            <source>Lanjutkan &amp;rekaman</source>
            <translation>&amp;Resume recording</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="47" />
            <source>Luring sejak %1</source>
            <translation>Offline since %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="53" />
            <source>Sinkronisasi terhenti sejak %1</source>
            <translation>Sync stopped since %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="206" />
            <source>%1 bebas</source>
            <translation>%1 free</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="228" />
            <source>Terlalu banyak rekaman belum terkirim: perekaman baru ditolak sampai antrian terkirim atau diekspor ke flashdisk.</source>
            <translation>Too many records not sent: new recordings are refused until the queue is sent or exported to a USB drive.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="252" />
            <source>%1 rekaman perlu tindakan: pusat meminta perekaman ulang atau menolaknya.</source>
            <translation>%1 record(s) need action: the central office asks for a re-recording or rejected them.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="292" />
            <source>Ada rekaman yang belum selesai. Tekan F3 untuk melanjutkan.</source>
            <translation>A recording is unfinished. Press F3 to resume it.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="42" />
            <source>Mengirim %1 dari %2</source>
            <translation>Sending %1 of %2</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="237" />
            <source>Peringatan: rekaman yang belum terkirim makin banyak. Sambungkan ke jaringan atau ekspor antrian ke flashdisk.</source>
            <translation>Warning: more and more records are not sent. Connect to the network or export the queue to a USB drive.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="211" />
            <source>Salinan cadangan siap: %1</source>
            <translation>Backup copy ready: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="215" />
            <source>Salinan cadangan TIDAK dapat ditulis: %1</source>
            <translation>Backup copy can NOT be written: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="221" />
            <source>%1 berkas di flashdisk dari penyimpanan yang terputus belum dipastikan: teknisi harus memeriksanya.</source>
            <translation>%1 file(s) on the USB stick from an interrupted save are unconfirmed: a technician must check them.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="288" />
            <source>Rekaman %1 belum selesai. Tekan F3 untuk melanjutkan.</source>
            <translation>The recording of %1 is unfinished. Press F3 to resume it.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/home.py" line="262" />
            <source>%1 — Kecamatan %2</source>
            <translation>%1 — Kecamatan %2</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="281" />
            <source>Pilih folder media lepas</source>
            <translation>Choose a folder on removable media</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="292" />
            <source>Mengekspor…</source>
            <translation>Exporting…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="327" />
            <source>Antrian pengiriman</source>
            <translation>Sending queue</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="329" />
            <source>&amp;Segarkan</source>
            <translation>&amp;Refresh</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="330" />
            <source>&amp;Ekspor ke folder…</source>
            <translation>&amp;Export to folder…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="331" />
            <source>Kirim &amp;ulang yang ditolak</source>
            <translation>&amp;Retry rejected</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="44" />
            <source>menunggu</source>
            <translation>waiting</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="45" />
            <source>terkirim</source>
            <translation>sent</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="46" />
            <source>terkirim (diarsipkan)</source>
            <translation>sent (archived)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="47" />
            <source>ditolak server</source>
            <translation>refused by server</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="54" />
            <source>Perlu rekam ulang: %1</source>
            <translation>Re-record needed: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="57" />
            <source>Diterima pusat</source>
            <translation>Received centrally</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="58" />
            <source>Diproses</source>
            <translation>Processed</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="59" />
            <source>Ganda</source>
            <translation>Duplicate</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="60" />
            <source>Ditolak</source>
            <translation>Rejected</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="67" />
            <source>biodata tidak sah</source>
            <translation>biodata invalid</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="68" />
            <source>foto tidak ada</source>
            <translation>photo missing</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="69" />
            <source>foto tidak terbaca</source>
            <translation>photo unreadable</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="70" />
            <source>foto terlalu kecil</source>
            <translation>photo too small</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="71" />
            <source>tanda tangan tidak ada</source>
            <translation>signature missing</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="72" />
            <source>tanda tangan tidak sah</source>
            <translation>signature invalid</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="73" />
            <source>NIK sudah terekam</source>
            <translation>NIK already recorded</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="104" />
            <source>Nomor rekaman</source>
            <translation>Record number</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="105" />
            <source>Waktu disimpan</source>
            <translation>Saved at</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="106" />
            <source>Status</source>
            <translation>Status</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="107" />
            <source>Percobaan</source>
            <translation>Attempts</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="108" />
            <source>Kesalahan terakhir</source>
            <translation>Last error</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="109" />
            <source>Hasil di pusat</source>
            <translation>Central result</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="275" />
            <source>%1 rekaman yang ditolak akan dikirim ulang.</source>
            <translation>%1 rejected record(s) will be sent again.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="309" />
            <source>%1 paket diekspor.</source>
            <translation>%1 packets exported.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/queue.py" line="243" />
            <source>Menunggu: %1 · Terkirim: %2 · Ditolak: %3</source>
            <translation>Waiting: %1 · Sent: %2 · Refused: %3</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/biodata.py" line="277" />
            <source>ketik nama kelurahan/desa, lalu ↓ dan Enter</source>
            <translation>type the village/kelurahan name, then ↓ and Enter</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/biodata.py" line="229" />
            <source>Dari NIK: %1</source>
            <translation>From the NIK: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/biodata.py" line="224" />
            <source>lahir %1</source>
            <translation>born %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/biodata.py" line="228" />
            <source>Kec. %1</source>
            <translation>Kec. %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/card.py" line="76" />
            <source>Opsional: tempelkan kartu KTP-el yang akan dikaitkan pada pembaca kartu. Tekan Enter untuk lanjut dengan atau tanpa kartu.</source>
            <translation>Optional: place the e-KTP card to link on the card reader. Press Enter to go on with or without a card.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/card.py" line="88" />
            <source>Lupakan &amp;kartu</source>
            <translation>&amp;Forget card</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/card.py" line="81" />
            <source>UID kartu: %1</source>
            <translation>Card UID: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/card.py" line="87" />
            <source>Belum ada kartu.</source>
            <translation>No card yet.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="24" />
            <source>N&amp;IK</source>
            <translation>N&amp;IK</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="25" />
            <source>&amp;Nama</source>
            <translation>Na&amp;me</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="26" />
            <source>&amp;Tempat lahir</source>
            <translation>&amp;Place of birth</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="27" />
            <source>Tanggal la&amp;hir (HH-BB-TTTT)</source>
            <translation>Date of &amp;birth (DD-MM-YYYY)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="28" />
            <source>&amp;Jenis kelamin</source>
            <translation>&amp;Sex</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="29" />
            <source>&amp;Golongan darah</source>
            <translation>Blood &amp;group</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="30" />
            <source>Alam&amp;at</source>
            <translation>&amp;Address</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="31" />
            <source>&amp;RT</source>
            <translation>&amp;RT</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="32" />
            <source>R&amp;W</source>
            <translation>R&amp;W</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="33" />
            <source>Kel&amp;urahan/desa</source>
            <translation>&amp;Village/kelurahan</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="34" />
            <source>Aga&amp;ma</source>
            <translation>Re&amp;ligion</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="35" />
            <source>&amp;Status perkawinan</source>
            <translation>Marital stat&amp;us</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="36" />
            <source>&amp;Pekerjaan</source>
            <translation>&amp;Occupation</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="37" />
            <source>K&amp;ewarganegaraan</source>
            <translation>Na&amp;tionality</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/fields.py" line="38" />
            <source>N&amp;o. KK</source>
            <translation>Family card no. (K&amp;K)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/photo.py" line="217" />
            <source>Foto diterima. Tekan Enter untuk lanjut, atau Ulangi foto.</source>
            <translation>Photo accepted. Press Enter to go on, or Retake photo.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/photo.py" line="230" />
            <source>belum ada foto</source>
            <translation>no photo yet</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/photo.py" line="246" />
            <source>&amp;Ambil foto</source>
            <translation>&amp;Take photo</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/photo.py" line="247" />
            <source>&amp;Ulangi foto</source>
            <translation>&amp;Retake photo</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/photo.py" line="248" />
            <source>Ambil &amp;otomatis</source>
            <translation>&amp;Auto-capture</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/photo.py" line="251" />
            <source>Menyalakan kamera…</source>
            <translation>Starting the camera…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/photo.py" line="172" />
            <source>Wajah baik. Tekan Enter atau Spasi untuk mengambil foto.</source>
            <translation>Face is good. Press Enter or Space to take the photo.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/photo.py" line="164" />
            <source>Foto ditolak: %1</source>
            <translation>Photo refused: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/receipt_page.py" line="127" />
            <source>Simpan bukti sebagai PDF ke flashdisk (berisi nama penduduk: jangan di komputer ini)</source>
            <translation>Save the receipt as PDF on a USB stick (it names the resident: not on this PC)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/receipt_page.py" line="147" />
            <source>&amp;Cetak…</source>
            <translation>&amp;Print…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/receipt_page.py" line="148" />
            <source>Simpan &amp;PDF…</source>
            <translation>Save P&amp;DF…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/receipt_page.py" line="150" />
            <source>Ke be&amp;randa</source>
            <translation>Go &amp;home</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/receipt_page.py" line="83" />
            <source>Tekan F3 untuk perekaman berikutnya.</source>
            <translation>Press F3 for the next recording.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/receipt_page.py" line="81" />
            <source>Rekaman tersimpan permanen dan masuk antrian pengiriman.</source>
            <translation>The recording is saved permanently and queued for sending.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/receipt_page.py" line="108" />
            <source>PDF disimpan: %1</source>
            <translation>PDF saved: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/review.py" line="80" />
            <source>Kartu</source>
            <translation>Card</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/review.py" line="92" />
            <source>Perhatian sebelum disimpan:</source>
            <translation>Check before saving:</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/review.py" line="95" />
            <source>Periksa sekali lagi sebelum disimpan permanen</source>
            <translation>Check once more before it is saved permanently</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/review.py" line="81" />
            <source>tidak dikaitkan</source>
            <translation>not linked</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="326" />
            <source>Buang rekaman yang sedang dibuat?</source>
            <translation>Discard the recording in progress?</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="310" />
            <source>&amp;Buang</source>
            <translation>&amp;Discard</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="311" />
            <source>&amp;Jangan buang</source>
            <translation>&amp;Keep it</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="428" />
            <source>1 Biodata</source>
            <translation>1 Biodata</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="429" />
            <source>2 Foto</source>
            <translation>2 Photo</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="430" />
            <source>3 Tanda tangan</source>
            <translation>3 Signature</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="431" />
            <source>4 Kartu</source>
            <translation>4 Card</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="432" />
            <source>5 Tinjau &amp; simpan</source>
            <translation>5 Review &amp; save</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="442" />
            <source>Perekaman baru</source>
            <translation>New recording</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="452" />
            <source>&amp;Kembali</source>
            <translation>&amp;Back</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="299" />
            <source>Sedang menyimpan permanen: rekaman ini tidak dapat dibatalkan lagi.</source>
            <translation>Saving permanently: this recording can no longer be cancelled.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="366" />
            <source>Ambil foto dulu.</source>
            <translation>Take the photo first.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="370" />
            <source>Tanda tangan masih kosong.</source>
            <translation>The signature is still empty.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="453" />
            <source>&amp;Batal</source>
            <translation>&amp;Cancel</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="453" />
            <source>&amp;Tutup</source>
            <translation>&amp;Close</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="218" />
            <source>Melanjutkan rekaman yang belum selesai.</source>
            <translation>Resuming the unfinished recording.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="325" />
            <source>Buang rekaman %1?</source>
            <translation>Discard the recording of %1?</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="456" />
            <source>&amp;Simpan permanen</source>
            <translation>&amp;Save permanently</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="456" />
            <source>Menyimpan…</source>
            <translation>Saving…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="450" />
            <source>Bukti perekaman</source>
            <translation>Recording receipt</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="461" />
            <source>Ambil &amp;&amp; &amp;lanjut</source>
            <translation>Take &amp;&amp; &amp;next</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="463" />
            <source>&amp;Lanjut</source>
            <translation>&amp;Next</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/screen.py" line="216" />
            <source>Melanjutkan rekaman %1 yang belum selesai.</source>
            <translation>Resuming the unfinished recording of %1.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/signature.py" line="50" />
            <source>Pemohon menandatangani di bantalan tanda tangan (pena atau mouse). Ctrl+Z mengurungkan coretan terakhir.</source>
            <translation>The applicant signs on the signature pad (pen or mouse). Ctrl+Z undoes the last stroke.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/signature.py" line="54" />
            <source>&amp;Hapus</source>
            <translation>C&amp;lear</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/signature.py" line="55" />
            <source>Urung&amp;kan coretan</source>
            <translation>Und&amp;o stroke</translation>
        </message>
        <message>
            <location filename="app/ui/screens/recording/signature.py" line="56" />
            <source>Kembalikan &amp;coretan</source>
            <translation>Bring &amp;stroke back</translation>
        </message>
        <message>
            <location filename="app/ui/screens/reprint.py" line="25" />
            <source>Cetak ulang bukti</source>
            <translation>Reprint receipt</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="160" />
            <source>Perlu rekam ulang</source>
            <translation>To re-record</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="162" />
            <source>Rekaman yang dikembalikan pusat. Nomor bukti sama dengan nomor pada bukti perekaman yang dipegang warga.</source>
            <translation>Records the central office sent back. The receipt number is the one on the receipt the resident holds.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="170" />
            <source>Warga sudah &amp;dihubungi</source>
            <translation>Resident &amp;contacted</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="171" />
            <source>&amp;Rekam ulang</source>
            <translation>&amp;Re-record</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="168" />
            <source>Tanggal</source>
            <translation>Date</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="168" />
            <source>Alasan</source>
            <translation>Reason</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="168" />
            <source>Tindak lanjut</source>
            <translation>Follow-up</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="100" />
            <source>sudah direkam ulang</source>
            <translation>re-recorded</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="145" />
            <source>Rekaman %1: warga sudah dihubungi.</source>
            <translation>Record %1: the resident was contacted.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="153" />
            <source>Perekaman baru menggantikan rekaman %1.</source>
            <translation>The new recording replaces record %1.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/rerecord.py" line="98" />
            <source>sudah dihubungi (%1)</source>
            <translation>contacted (%1)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="220" />
            <source>Masuk</source>
            <translation>Sign in</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="229" />
            <source>&amp;Nama pengguna</source>
            <translation>&amp;Username</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="230" />
            <source>&amp;Kata sandi</source>
            <translation>&amp;Password</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="231" />
            <source>&amp;Masuk</source>
            <translation>&amp;Sign in</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="232" />
            <source>P&amp;IN</source>
            <translation>P&amp;IN</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="233" />
            <source>Masuk dengan &amp;kartu</source>
            <translation>Sign in with &amp;card</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="151" />
            <source>Atau tempelkan kartu operator pada pembaca, lalu ketik PIN.</source>
            <translation>Or place the operator card on the reader, then type the PIN.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="223" />
            <source>Layar dikunci karena tidak ada aktivitas. Masuk lagi untuk melanjutkan.</source>
            <translation>The screen was locked after a period of inactivity. Sign in again to continue.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="226" />
            <source>Layar dikunci. Masuk lagi untuk melanjutkan.</source>
            <translation>The screen is locked. Sign in again to continue.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="228" />
            <source>Stasiun perekaman KTP-el. Masuk dengan akun operator.</source>
            <translation>KTP-el recording station. Sign in with an operator account.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="243" />
            <source>Belum ada akun di stasiun ini. Teknisi membuatnya dengan: ektp-station operator add --username NAMA --role technician</source>
            <translation>No accounts on this station yet. A technician creates one with: ektp-station operator add --username NAME --role technician</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="147" />
            <source>Kartu operator terbaca: %1</source>
            <translation>Operator card read: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/signin.py" line="237" />
            <source>Mode demo: masuk sebagai %1 dengan kata sandi %2</source>
            <translation>Demo mode: sign in as %1 with password %2</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="152" />
            <source>&amp;Hentikan uji</source>
            <translation>S&amp;top test</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="157" />
            <source>&amp;Uji kamera</source>
            <translation>&amp;Test camera</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="184" />
            <source>Kamera</source>
            <translation>Camera</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="185" />
            <source>Su&amp;mber kamera</source>
            <translation>Camera &amp;source</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="187" />
            <source>&amp;Gunakan</source>
            <translation>Us&amp;e</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="188" />
            <source>Pembaca kartu</source>
            <translation>Card reader</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="189" />
            <source>&amp;Periksa perangkat</source>
            <translation>Check &amp;devices</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="191" />
            <source>Tempelkan kartu untuk menguji pembaca.</source>
            <translation>Place a card to test the reader.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="118" />
            <source>Pembaca kartu: %1</source>
            <translation>Card readers: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="134" />
            <source>Kartu dilepas dari %1</source>
            <translation>Card removed from %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="170" />
            <source>Kamera berjalan: %1×%2, bingkai %3</source>
            <translation>Camera running: %1×%2, frame %3</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/devices.py" line="126" />
            <source>Kartu terbaca di %1: UID %2 ATR %3</source>
            <translation>Card read on %1: UID %2 ATR %3</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="112" />
            <source>nama atau kode, misalnya Kronjo</source>
            <translation>name or code, e.g. Kronjo</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="258" />
            <source>Daftarkan ulang stasiun?</source>
            <translation>Register the station again?</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="287" />
            <source>Menghubungi server…</source>
            <translation>Contacting the server…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="323" />
            <source>Pilih folder salinan cadangan (flashdisk)</source>
            <translation>Choose the backup copy folder (USB drive)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="388" />
            <source>&amp;Pindahkan</source>
            <translation>&amp;Move</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="423" />
            <source>Teknisi</source>
            <translation>Technician</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="424" />
            <source>Pendaftaran stasiun</source>
            <translation>Station registration</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="425" />
            <source>Alamat &amp;server</source>
            <translation>Server &amp;URL</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="426" />
            <source>&amp;Kode pendaftaran</source>
            <translation>Registration &amp;code</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="427" />
            <source>&amp;Daftarkan stasiun</source>
            <translation>&amp;Register station</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="428" />
            <source>Salinan cadangan (flashdisk)</source>
            <translation>Backup copy (USB drive)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="429" />
            <source>&amp;Folder</source>
            <translation>&amp;Folder</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="430" />
            <source>Pilih…</source>
            <translation>Browse…</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="431" />
            <source>&amp;Terapkan</source>
            <translation>&amp;Apply</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="432" />
            <source>Bahasa</source>
            <translation>Language</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="433" />
            <source>&amp;Bahasa antarmuka</source>
            <translation>Interface &amp;language</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="434" />
            <source>Pindah kecamatan</source>
            <translation>Move to another kecamatan</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="435" />
            <source>K&amp;ecamatan baru</source>
            <translation>N&amp;ew district</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="436" />
            <source>&amp;Supervisor</source>
            <translation>Su&amp;pervisor</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="437" />
            <source>Kata sandi supe&amp;rvisor</source>
            <translation>Supervisor pass&amp;word</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="438" />
            <source>Pi&amp;ndahkan kit</source>
            <translation>&amp;Move kit</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="201" />
            <source>Stasiun ini belum terdaftar di server.</source>
            <translation>This station is not registered with a server yet.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="276" />
            <source>Pendaftaran ulang dibatalkan.</source>
            <translation>Re-registration cancelled.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="409" />
            <source>Kit dipindah ke kecamatan %1</source>
            <translation>Kit moved to kecamatan %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="196" />
            <source>ID stasiun: %1</source>
            <translation>Station ID: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="339" />
            <source>Salinan cadangan dimatikan</source>
            <translation>Backup copy turned off</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="370" />
            <source>Lebih dari satu kecamatan cocok; ketik kodenya: %1</source>
            <translation>More than one district matches; type its code: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="208" />
            <source>Disiapkan luring sebagai %1 (tanpa alamat server)</source>
            <translation>Set up offline as %1 (no server address)</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="300" />
            <source>Stasiun terdaftar: %1, kecamatan %2</source>
            <translation>Station registered: %1, kecamatan %2</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="385" />
            <source>Pindahkan kit dari Kecamatan %1 ke Kecamatan %2?</source>
            <translation>Move the kit from district %1 to district %2?</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="337" />
            <source>Salinan cadangan diatur: %1</source>
            <translation>Backup copy set: %1</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="204" />
            <source>Terdaftar sebagai %1 di %2</source>
            <translation>Registered as %1 at %2</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/screen.py" line="260" />
            <source>Stasiun ini sudah terdaftar sebagai %1 di %2. Daftarkan lagi ke %3 dengan kode ini? ID dan kunci stasiun tetap sama.</source>
            <translation>This station is already registered as %1 at %2. Register it again at %3 with this code? The station's ID and key stay the same.</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="178" />
            <source>Kartu petugas</source>
            <translation>Staff cards</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="179" />
            <source>A&amp;kun</source>
            <translation>A&amp;ccount</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="180" />
            <source>P&amp;IN baru</source>
            <translation>New P&amp;IN</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="181" />
            <source>Ulangi PI&amp;N</source>
            <translation>Repeat PI&amp;N</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="182" />
            <source>Kaitkan kar&amp;tu</source>
            <translation>Link car&amp;d</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="183" />
            <source>&amp;Lepas kartu</source>
            <translation>&amp;Unlink card</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="184" />
            <source>B&amp;uka kunci akun</source>
            <translation>Unl&amp;ock account</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="102" />
            <source>terkunci</source>
            <translation>locked</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="101" />
            <source>sudah berkartu</source>
            <translation>has a card</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="156" />
            <source>Akun %1 dibuka kembali</source>
            <translation>Account %1 unlocked</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="141" />
            <source>Kartu %1 dilepas</source>
            <translation>Card of %1 unlinked</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="143" />
            <source>%1 tidak punya kartu</source>
            <translation>%1 has no card</translation>
        </message>
        <message>
            <location filename="app/ui/screens/technician/staff_cards.py" line="128" />
            <source>Kartu %1 dikaitkan ke %2</source>
            <translation>Card %1 linked to %2</translation>
        </message>
        <message>
            <location filename="app/ui/send_feedback.py" line="57" />
            <source>Mengirim…</source>
            <translation>Sending…</translation>
        </message>
        <message>
            <location filename="app/ui/send_feedback.py" line="85" />
            <source>Semua rekaman sudah terkirim.</source>
            <translation>All records have been sent.</translation>
        </message>
        <message>
            <location filename="app/ui/send_feedback.py" line="97" />
            <source>Server tidak menjawab. Rekaman dikirim lagi otomatis.</source>
            <translation>The server does not answer. The records will be sent again automatically.</translation>
        </message>
        <message>
            <location filename="app/ui/send_feedback.py" line="49" />
            <source>Stasiun ini tanpa server: kirim antrian lewat ekspor ke flashdisk.</source>
            <translation>This station has no server: send the queue by exporting it to a USB drive.</translation>
        </message>
        <message>
            <location filename="app/ui/send_feedback.py" line="53" />
            <source>Pengiriman belum berjalan. Coba lagi sebentar lagi.</source>
            <translation>Sending has not started yet. Try again in a moment.</translation>
        </message>
        <message>
            <location filename="app/ui/send_feedback.py" line="91" />
            <source>Server belum menjawab. Rekaman tetap di antrian dan dikirim lagi otomatis.</source>
            <translation>The server has not answered yet. The records stay in the queue and will be sent again automatically.</translation>
        </message>
        <message>
            <location filename="app/ui/send_feedback.py" line="87" />
            <source>%1 rekaman belum terkirim: lihat kolom Kesalahan terakhir di Antrian.</source>
            <translation>%1 records not sent: see the Last error column in the Queue.</translation>
        </message>
        <message>
            <location filename="app/ui/send_feedback.py" line="78" />
            <source>Mengirim %1 dari %2…</source>
            <translation>Sending %1 of %2…</translation>
        </message>
        <message>
            <location filename="app/ui/widgets.py" line="44" />
            <source>Konfirmasi</source>
            <translation>Please confirm</translation>
        </message>
    </context>
</TS>
