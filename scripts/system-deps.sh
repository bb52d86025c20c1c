#!/usr/bin/env bash
# Install the Debian packages the station (run) or the test suite (test) needs.
# As root it installs what is missing; otherwise it names what is missing and stops.
set -euo pipefail
what="${1:-test}"

# Python venv and a compiler + PC/SC headers: pip builds pyscard (no Linux wheel).
# Qt's own libraries (PySide6 wheels) link libglib-2.0 and libdbus; the xcb ones are for a
# real window (the offscreen platform needs only the first line).
run_pkgs=(python3-venv gcc libpcsclite-dev pcscd
          libglib2.0-0 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
          libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0)
# Debian's own python3 has no C headers without python3-dev, and pip compiles pyscard.
if ! python3 -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; then
  run_pkgs+=(python3-dev)
fi
# The real parts the tests drive: virtual card reader, X server, NSIS + wine, PostgreSQL;
# mingw-w64 builds the installer tests' stand-in ektp-station.exe; binutils (objdump, readelf,
# strip) is what PyInstaller freezes with, x11-utils (xwininfo) finds the frozen GUI's window.
# poppler-utils: pdftotext reads the receipt PDF back as a reader would (tests/ui).
# chromium: the headless browser the office web page's tests drive with Playwright (tests/web).
test_pkgs=(vsmartcard-vpcd xvfb xauth nsis wine wine64 gcc-mingw-w64-x86-64 postgresql imagemagick
           binutils x11-utils poppler-utils chromium)

pkgs=("${run_pkgs[@]}")
if [ "$what" = "test" ]; then pkgs+=("${test_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed system packages: ${missing[*]}"
