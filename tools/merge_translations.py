"""Fill Indonesian msgstrs from TSV files (``msgid<TAB>terjemahan``) into the catalogue.

Developers' helper: ``python tools/merge_translations.py FILE.tsv ...``. A line starting with
``PLURAL:`` gives the one Indonesian form for a plural msgid (Indonesian has no plural).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent.parent / "src/satupintu/locale/id/LC_MESSAGES/django.po"


def main(paths: list[str]) -> int:
    table: dict[str, str] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                key, value = line.split("\t", 1)
                table[key] = value
    po = polib.pofile(str(CATALOGUE))
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.metadata["Language"] = "id"
    missing = 0
    for entry in po:
        if entry.msgid_plural:
            value = table.get("PLURAL:" + entry.msgid)
            if value:
                entry.msgstr_plural = {0: value}
        elif entry.msgid in table:
            entry.msgstr = table[entry.msgid]
        if "fuzzy" in entry.flags and (entry.msgstr or entry.msgstr_plural.get(0)):
            entry.flags.remove("fuzzy")
        if not (entry.msgstr or (entry.msgid_plural and entry.msgstr_plural.get(0))):
            missing += 1
            print(f"missing: {entry.msgid!r}")
    po.save()
    print(f"{len(po)} entries, {missing} without a translation")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
