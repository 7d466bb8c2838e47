"""Run the whole suite: static checks and every test on SQLite, then again on PostgreSQL.

Run by ``python3 bootstrap.py test`` inside .venv. With CI=true a missing PostgreSQL, Chromium
or gettext fails the run; on a user's machine each is skipped with one line saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get("SATUPINTU_TEST_POSTGRES_URL",
                        "postgres://postgres@127.0.0.1:5432/satupintu")
# Engine tests and static checks do not touch the database: the PostgreSQL pass skips them.
DB_INDEPENDENT = ["src/satupintu/engine", "tests/quality", "tests/e2e"]


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure_system_packages() -> None:
    """Debian's Chromium (browser tests), gettext (catalogue test) and Dovecot (a real IMAP
    server for the mail polling tests), when we may install."""
    wanted = {"chromium": "chromium", "xgettext": "gettext",
              "/usr/sbin/dovecot": "dovecot-imapd"}
    missing = [pkg for binary, pkg in wanted.items()
               if shutil.which(binary) is None and not Path(binary).exists()]
    if not missing:
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        say(f"cannot install {', '.join(missing)} here (needs apt-get as root): "
            "the tests that need them will be skipped")
        return
    say(f"installing {', '.join(missing)} from Debian's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-qq"], check=False, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([apt, "install", "-y", "-qq", "--no-install-recommends", *missing],
                   check=False, env=env, stdout=subprocess.DEVNULL)


def postgres_reachable() -> str | None:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a hard dependency
        return str(exc)
    admin_url = PG_URL.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin_url, connect_timeout=5):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def pytest(label: str, extra_env: dict[str, str], args: list[str]) -> int:
    say(f"test pass: {label}")
    env = {**os.environ, "SATUPINTU_TESTING": "1", **extra_env}
    env.setdefault("SATUPINTU_DATA_DIR", tempfile.mkdtemp(prefix="satupintu-test-"))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.call(command, cwd=ROOT, env=env)


def main() -> int:
    ensure_system_packages()
    from satupintu.i18n import compile_messages

    compile_messages()
    user_args = sys.argv[1:]
    results: dict[str, int] = {}
    results["sqlite"] = pytest("SQLite", {"DATABASE_URL": ""},
                               ["--cov=satupintu", "--cov-report=term:skip-covered",
                                *user_args])
    problem = postgres_reachable()
    if problem is None:
        ignore = [f"--ignore={path}" for path in DB_INDEPENDENT]
        results["postgresql"] = pytest("PostgreSQL", {"DATABASE_URL": PG_URL},
                                       [*ignore, *user_args])
    elif CI:
        say(f"PostgreSQL is required in CI but cannot be reached at {PG_URL}: {problem}")
        results["postgresql"] = 1
    else:
        say(f"PostgreSQL not reachable at {PG_URL} ({problem}): skipping the PostgreSQL pass")
    failed = [name for name, code in results.items() if code != 0]
    say("all passes green" if not failed else f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
