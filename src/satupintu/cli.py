"""The ``satupintu`` command: serve, demo, migrate, check, audit, and the planners' tools.

Sub-commands live in small modules (``satupintu.commands.*``) that each add themselves to
the parser; this module only sets Django up and dispatches.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

# Engine tools first; each module offers ``register(subparsers)``.
COMMAND_MODULES = [
    "satupintu.commands.platform",
    "satupintu.commands.erlang",
    "satupintu.commands.staffing",
    "satupintu.commands.schedule",
    "satupintu.commands.roster",
    "satupintu.commands.simulate",
    "satupintu.commands.route",
    "satupintu.commands.mail",
]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "satupintu.config.settings")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    from django.utils.translation import gettext as _

    parser = argparse.ArgumentParser(
        prog="satupintu",
        description=_("SatuPintu: one door for every customer on every channel."),
    )
    subparsers = parser.add_subparsers(dest="command", metavar=_("COMMAND"))
    for name in COMMAND_MODULES:
        import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    setup_django()
    from django.utils import translation

    translation.activate(os.environ.get("SATUPINTU_LANGUAGE", "") or _cli_language())
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    result: int = args.func(args)
    return result


def _cli_language() -> str:
    lang = (os.environ.get("LC_ALL") or os.environ.get("LANG") or "").lower()
    return "id" if lang.startswith("id") else "en"


if __name__ == "__main__":
    sys.exit(main())
