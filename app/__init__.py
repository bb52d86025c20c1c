"""e-KTP enrollment station: domain, store, sync and capture (headless) plus the Qt UI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ektp-station")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.1.0"
