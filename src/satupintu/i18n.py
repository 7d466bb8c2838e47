"""Compile the gettext catalogues with polib, so no GNU gettext is needed to run SatuPintu."""

from __future__ import annotations

from pathlib import Path

import polib

PACKAGE_DIR = Path(__file__).resolve().parent


def catalogues() -> list[Path]:
    return sorted(PACKAGE_DIR.glob("**/locale/*/LC_MESSAGES/*.po"))


def compile_messages(force: bool = False) -> int:
    """Write each .mo beside its .po when missing or older; return how many were written."""
    written = 0
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if force or not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            written += 1
    return written
