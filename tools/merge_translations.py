"""Fill Indonesian msgstrs from TSV files (``msgid<TAB>terjemahan``) into the catalogue.

Developers' helper: ``python tools/merge_translations.py FILE.tsv ...``; the TSV files are
the source of every translation unless ``--keep`` keeps what the catalogue already has.
A line starting with ``PLURAL:`` gives the one Indonesian form for a plural msgid
(Indonesian has no plural).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import polib

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
CATALOGUE = Path(__file__).resolve().parent.parent / "src/satupintu/locale/id/LC_MESSAGES/django.po"


def main(paths: list[str]) -> int:
    table: dict[str, str] = {}
    for path in (p for p in paths if p != "--keep"):
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                key, value = line.split("\t", 1)
                table[key] = value
    po = polib.pofile(str(CATALOGUE))
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.metadata["Language"] = "id"
    missing = 0
    for entry in po:
        if "fuzzy" in entry.flags:
            # makemessages' fuzzy guesses borrow another string's text: never keep them.
            entry.flags.remove("fuzzy")
            entry.msgstr = ""
            entry.previous_msgid = None
            entry.previous_msgid_plural = None
            entry.previous_msgctxt = None
            if entry.msgid_plural:
                entry.msgstr_plural = {0: ""}
        if entry.msgid_plural:
            value = table.get("PLURAL:" + entry.msgid)
            if value:
                entry.msgstr_plural = {0: value}
        elif entry.msgid in table:
            entry.msgstr = table[entry.msgid]
        elif "--keep" not in sys.argv:
            entry.msgstr = ""  # the TSV files are the source: anything else is a stale guess
        if entry.msgstr and set(_PLACEHOLDER.findall(entry.msgstr)) != set(
                _PLACEHOLDER.findall(entry.msgid)):
            print(f"placeholders differ, dropped: {entry.msgid!r} -> {entry.msgstr!r}")
            entry.msgstr = ""
        if not (entry.msgstr or (entry.msgid_plural and entry.msgstr_plural.get(0))):
            missing += 1
            print(f"missing: {entry.msgid!r}")
    po.save()
    print(f"{len(po)} entries, {missing} without a translation")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
