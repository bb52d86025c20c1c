#!/usr/bin/env bash
# Build the Windows installer on Linux from a PyInstaller one-folder payload:
#   scripts/build-installer.sh PAYLOAD_DIR [OUT]
# The version is pyproject.toml's [project].version, its only source. OUT defaults to
# dist/ektp-station-<version>-setup.exe. Prints the installer's path on success.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PAYLOAD_DIR [OUT]" >&2
  exit 2
fi
if [ ! -d "$1" ]; then
  echo "PAYLOAD_DIR: not a directory: $1" >&2
  exit 2
fi
payload="$(cd "$1" && pwd)"
if ! command -v makensis >/dev/null; then
  echo "makensis: not found (apt-get install nsis)" >&2
  exit 1
fi

# NSIS's VIProductVersion wants numbers only: refuse anything but x.y.z.
version="$("${PYTHON:-python3}" - "$root/pyproject.toml" <<'PY'
import re, sys, tomllib
with open(sys.argv[1], "rb") as f:
    version = tomllib.load(f)["project"]["version"]
if not re.fullmatch(r"\d+\.\d+\.\d+", version):
    sys.exit(f"pyproject.toml: version {version!r} is not x.y.z")
print(version)
PY
)"

out="${2:-$root/dist/ektp-station-$version-setup.exe}"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
makensis -WX -V2 "-DVERSION=$version" "-DPAYLOAD=$payload" "-DOUTFILE=$out" "$root/installer.nsi" >&2
echo "$out"
