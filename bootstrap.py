#!/usr/bin/env python3
"""The two README commands, for a fresh machine with nothing but Python 3.11+.

    python3 bootstrap.py          install into .venv, build the demo, serve on :8000
    python3 bootstrap.py test     install what the tests need and run them all

Only the standard library is used here: this script must run before anything is installed.
Installs are skipped when pyproject.toml has not changed since the last one, so a second
run starts in seconds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
VENDOR = ROOT / "src" / "satupintu" / "web" / "static" / "vendor"
# Front-end packages from the npm registry, pinned, with their published integrity hashes.
FRONTEND = {
    "htmx.org@2.0.11": ("dist/htmx.min.js", "htmx.min.js"),
}


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, **kwargs: object) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[call-overload]


def ensure_python() -> None:
    if sys.version_info < (3, 11):
        sys.exit("SatuPintu needs Python 3.11 or newer; this is " + sys.version.split()[0])


def ensure_venv() -> None:
    if not PYTHON.exists():
        say("creating the virtual environment in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)


def ensure_installed(extra: str) -> None:
    """pip install -e once per change of pyproject.toml (the test extra covers the base)."""
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    covering = [extra] if extra else ["", "test"]
    for name in covering:
        stamp = VENV / f".installed-{name or 'base'}"
        if stamp.exists() and stamp.read_text() == want:
            return
    spec = f".[{extra}]" if extra else "."
    say(f"installing SatuPintu and its pinned dependencies ({spec})")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade",
        "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", spec,
        cwd=ROOT)
    (VENV / f".installed-{extra or 'base'}").write_text(want)


def ensure_frontend() -> None:
    """Fetch front-end assets with npm (the registry's own client) into the static folder."""
    missing = {pkg: files for pkg, files in FRONTEND.items() if not (VENDOR / files[1]).exists()}
    if not missing:
        return
    npm = shutil.which("npm")
    if npm is None:
        say("npm not found: pages work without htmx's live updates until npm is installed")
        return
    VENDOR.mkdir(parents=True, exist_ok=True)
    work = VENV / "frontend"
    work.mkdir(exist_ok=True)
    for package, (inner, target) in missing.items():
        say(f"fetching {package} from the npm registry")
        run(npm, "pack", package, "--silent", "--pack-destination", work, cwd=work,
            stdout=subprocess.DEVNULL)
        tarball = next(work.glob(package.split("@")[0].replace("/", "-") + "-*.tgz"))
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(f"package/{inner}")
            assert member is not None
            (VENDOR / target).write_bytes(member.read())


def start() -> int:
    ensure_installed("")
    ensure_frontend()
    satupintu = BIN / "satupintu"
    args = sys.argv[2:] if len(sys.argv) > 2 else []
    if "--smtp-port" not in args and _port_free(2525):
        args += ["--smtp-port", "2525"]  # the demo receives e-mail too (smtplib, swaks, an MTA)
    return subprocess.call([str(satupintu), "demo", "--serve", *args], cwd=ROOT)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test() -> int:
    ensure_installed("test")
    ensure_frontend()
    return subprocess.call([str(PYTHON), str(ROOT / "tools" / "run_tests.py"), *sys.argv[2:]],
                           cwd=ROOT)


def main() -> int:
    ensure_python()
    ensure_venv()
    command = sys.argv[1] if len(sys.argv) > 1 else "start"
    if command == "start":
        return start()
    if command == "test":
        return test()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
