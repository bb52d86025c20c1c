"""Collect the UI's ``tr("...")`` strings into resources/translations/ektp_<lang>.ts and
compile them to .qm with pyside6-lrelease.

    python scripts/update_translations.py          # update the .ts (keeps translations), compile
    python scripts/update_translations.py --check  # exit 1 if a string is missing/untranslated
                                                   # or the .qm is not the compiled .ts

Bahasa Indonesia is the source language; each .ts holds one target language. We parse the
code with ``ast`` instead of running pyside6-lupdate: the UI uses one translation context
through ``app.ui.i18n.tr`` and this keeps the file order stable and the tool dependency-free.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UI = ROOT / "app" / "ui"
TRANSLATIONS = ROOT / "resources" / "translations"
CONTEXT = "ektp"
LANGUAGES = {"en": "en_US"}
# Qt's own strings (message box buttons, context menus, file and print dialogs) in Bahasa
# Indonesia: Qt ships no qtbase_id, so the project keeps the few an operator meets; edited by
# hand, compiled and checked here.
QT_CATALOGS = ["qtbase_id"]


def source_strings() -> list[tuple[str, str]]:
    """(text, "file:line") of every tr("literal") in app/ui, first occurrence, file order."""
    seen: dict[str, str] = {}
    for path in sorted(UI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "tr"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                text = node.args[0].value
                seen.setdefault(text, f"{path.relative_to(ROOT)}:{node.lineno}")
    return list(seen.items())


def read_ts(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for message in ET.parse(path).getroot().iter("message"):
        source = message.findtext("source") or ""
        tr_el = message.find("translation")
        if tr_el is not None and tr_el.get("type") not in ("unfinished", "obsolete", "vanished"):
            out[source] = tr_el.text or ""
    return out


def write_ts(path: Path, lang: str, strings: list[tuple[str, str]], known: dict[str, str]) -> None:
    root = ET.Element("TS", version="2.1", language=lang, sourcelanguage="id_ID")
    ctx = ET.SubElement(root, "context")
    ET.SubElement(ctx, "name").text = CONTEXT
    for text, where in strings:
        message = ET.SubElement(ctx, "message")
        file, line = where.rsplit(":", 1)
        ET.SubElement(message, "location", filename=file, line=line)
        ET.SubElement(message, "source").text = text
        translation = ET.SubElement(message, "translation")
        if text in known:
            translation.text = known[text]
        else:
            translation.set("type", "unfinished")
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8"
    )


def lrelease() -> str:
    for candidate in (
        Path(sys.executable).parent / "pyside6-lrelease",
        shutil.which("pyside6-lrelease"),
    ):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise SystemExit("pyside6-lrelease not found (it comes with PySide6-Essentials)")


def compile_ts(ts: Path, qm: Path) -> None:
    subprocess.run([lrelease(), "-silent", str(ts), "-qm", str(qm)], check=True)


def check_qt(name: str) -> list[str]:
    ts, qm = TRANSLATIONS / f"{name}.ts", TRANSLATIONS / f"{name}.qm"
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / qm.name
        compile_ts(ts, fresh)
        if not qm.exists() or qm.read_bytes() != fresh.read_bytes():
            return [f"{qm.name} is not the compiled {ts.name}: run scripts/update_translations.py"]
    return []


def check(code: str) -> list[str]:
    problems = []
    ts = TRANSLATIONS / f"ektp_{code}.ts"
    qm = TRANSLATIONS / f"ektp_{code}.qm"
    known = read_ts(ts)
    for text, where in source_strings():
        if text not in known or not known[text]:
            problems.append(f"{ts.name}: no translation for {text!r} ({where})")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / qm.name
        compile_ts(ts, fresh)
        if not qm.exists() or qm.read_bytes() != fresh.read_bytes():
            problems.append(
                f"{qm.name} is not the compiled {ts.name}: run scripts/update_translations.py"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--check", action="store_true")
    args = p.parse_args(argv)
    if args.check:
        problems = [line for code in LANGUAGES for line in check(code)]
        problems += [line for name in QT_CATALOGS for line in check_qt(name)]
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    strings = source_strings()
    for code, lang in LANGUAGES.items():
        ts = TRANSLATIONS / f"ektp_{code}.ts"
        known = read_ts(ts)
        write_ts(ts, lang, strings, known)
        compile_ts(ts, TRANSLATIONS / f"ektp_{code}.qm")
        missing = [t for t, _ in strings if t not in known]
        print(f"{ts.relative_to(ROOT)}: {len(strings)} strings, {len(missing)} untranslated")
    for name in QT_CATALOGS:
        compile_ts(TRANSLATIONS / f"{name}.ts", TRANSLATIONS / f"{name}.qm")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
