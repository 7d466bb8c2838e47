"""Run the benchmarks side by side with the peers: ``python3 bench/run.py [SUITE|all]``.

Creates ``.venv-bench`` (SatuPintu plus the peers in bench/requirements.txt) on first use,
then runs each suite's ``bench/<suite>/run.py`` there. Each suite prints its table of ratios
and writes ``bench/<suite>/results.md``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-bench"
PYTHON = VENV / "bin" / "python"
SUITES = ["wfm", "sim", "onedoor", "channels", "routing"]


def ensure_venv() -> None:
    requirements = ROOT / "bench" / "requirements.txt"
    want = hashlib.sha256(requirements.read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == want.hexdigest():
        return
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-e", str(ROOT), "-r",
                    str(requirements)], check=True)
    stamp.write_text(want.hexdigest())


def main(argv: list[str]) -> int:
    wanted = argv or ["all"]
    suites = SUITES if "all" in wanted else wanted
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}, all",
              file=sys.stderr)
        return 2
    ensure_venv()
    failed = 0
    for suite in suites:
        print(f"==> bench/{suite}", flush=True)
        failed |= subprocess.call([PYTHON, str(ROOT / "bench" / suite / "run.py")], cwd=ROOT)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
