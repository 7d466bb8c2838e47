"""The channels suite (issue 6): e-mail over SMTP and, when present, WhatsApp webhooks, each
into the case timeline on PostgreSQL. Run by ``python3 bench/run.py channels``; each script
writes its own section of bench/channels/results.md."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    failed = 0
    for name in ("mail_bench", "whatsapp_bench"):
        if not (HERE / f"{name}.py").exists():
            continue
        print(f"--> {name}", flush=True)
        failed |= int(_load(name).main([]) != 0)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
