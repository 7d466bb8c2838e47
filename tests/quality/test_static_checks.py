"""Static checks run with the tests: ruff, mypy (strict on the engine), the import contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    paths = [p for p in ("src", "tests", "bench", "tools", "bootstrap.py", "conftest.py")
             if (ROOT / p).exists()]
    result = _run(str(BIN / "ruff"), "check", *paths)
    assert result.returncode == 0, result.stdout + result.stderr


def test_engine_never_imports_django():
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_engine():
    result = _run(sys.executable, "-m", "mypy", "--strict", "src/satupintu/engine")
    assert result.returncode == 0, result.stdout + result.stderr
