"""Real protocol fixtures: our SMTP/LMTP endpoint on a free port, an SMTP sink that records
what we send, and a real Dovecot IMAP server started as a subprocess."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

DOVECOT = "/usr/sbin/dovecot"
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def addresses(org: SimpleNamespace) -> SimpleNamespace:
    from satupintu.mail import services

    return SimpleNamespace(
        alpha=services.save_address(org.alpha, "halo@alpha.example", by=None,
                                    display_name="Alpha Bank CS", default_team=org.team_a,
                                    default_priority="high"),
        bravo=services.save_address(org.bravo, "cs@bravo.example", by=None,
                                    default_language="en"),
    )


def _share_connection(conn: Any) -> Any:
    """SQLite test databases live in memory: worker threads must use the test's connection
    (as Django's live server does). PostgreSQL threads open their own."""
    def init() -> None:
        from django.db import connections

        if conn is not None:
            connections["default"] = conn
    return init


@pytest.fixture
def endpoint(transactional_db: Any) -> Iterator[SimpleNamespace]:
    yield from _endpoint(lmtp=False)


@pytest.fixture
def lmtp_endpoint(transactional_db: Any) -> Iterator[SimpleNamespace]:
    yield from _endpoint(lmtp=True)


def _endpoint(*, lmtp: bool) -> Iterator[SimpleNamespace]:
    from django.db import connections

    from satupintu.mail.server import MailHandler, start

    shared = None
    if connections["default"].vendor == "sqlite":
        shared = connections["default"]  # the real object, not the thread-local proxy
        shared.ensure_connection()
        shared.inc_thread_sharing()
    # One thread for both: messages are stored and processed in order, like a small server.
    pool = ThreadPoolExecutor(max_workers=1, initializer=_share_connection(shared))
    handler = MailHandler(lmtp=lmtp, store_executor=pool, process_executor=pool)
    port = free_port()
    controller = start("127.0.0.1", port, lmtp=lmtp, handler=handler)
    try:
        yield SimpleNamespace(host="127.0.0.1", port=port, handler=handler,
                              controller=controller)
    finally:
        controller.stop()
        handler.wait_idle(10)
        pool.shutdown(wait=True)
        if shared is not None:
            shared.dec_thread_sharing()


class SinkHandler:
    def __init__(self) -> None:
        self.messages: list[SimpleNamespace] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content
        self.messages.append(SimpleNamespace(
            mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), raw=raw,
            msg=BytesParser(policy=policy.default).parsebytes(raw)))
        return "250 OK"


class Sink:
    """A local SMTP server catching our outbound mail; can be stopped and started again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = SinkHandler()
        self.controller: Any = None

    @property
    def messages(self) -> list[SimpleNamespace]:
        return self.handler.messages

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def sink(settings: Any) -> Iterator[Sink]:
    port = free_port()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_TIMEOUT = 5
    s = Sink(port)
    s.start()
    try:
        yield s
    finally:
        s.stop()


def make_mail(*, sender: str = "Budi Santoso <budi@pelanggan.example>",
              to: str = "halo@alpha.example", subject: str = "Kartu kredit terblokir",
              body: str = "Selamat siang, kartu saya terblokir sejak kemarin.",
              message_id: str | None = None, headers: dict[str, str] | None = None,
              html: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = message_id or f"<{time.monotonic_ns()}@pelanggan.example>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


class Dovecot:
    """Dovecot from Debian's package with a throw-away configuration (passwd-file, maildir
    in a temporary directory, a free high port, no TLS)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.users: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None

    def add_user(self, name: str, password: str) -> None:
        self.users[name] = password
        (self.root / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()), encoding="utf-8")

    def start(self) -> None:
        root = self.root
        for sub in ("run", "state", "home"):
            (root / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:  # Dovecot refuses mail as root: use its own unprivileged user
            user = pwd.getpwnam("dovenull") if _has_user("dovenull") else pwd.getpwnam("nobody")
            uid, gid = user.pw_uid, user.pw_gid
            internal = login = user.pw_name
            os.chown(root / "home", uid, gid)
            os.chmod(root, 0o755)  # noqa: S103 - Dovecot's own user must reach it
        else:
            uid, gid = os.getuid(), os.getgid()
            internal = login = pwd.getpwuid(uid).pw_name
        group = grp.getgrgid(gid).gr_name
        (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = satupintu-test-{self.port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""", encoding="utf-8")
        if not (root / "passwd").exists():
            (root / "passwd").write_text("", encoding="utf-8")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                break
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        err = self.proc.stderr.read().decode() if self.proc.stderr and self.proc.poll() else ""
        self.stop()
        raise RuntimeError(f"Dovecot did not start: {err}\n{log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def client(self, user: str) -> Any:
        from imapclient import IMAPClient

        c = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        c.login(user, self.users[user])
        return c


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        if CI:
            pytest.fail("Dovecot (/usr/sbin/dovecot, Debian's dovecot-imapd) is required in CI")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd); the IMAP "
                    "polling tests need a real IMAP server")
    # Not under pytest's 0700 tmp directory: Dovecot's unprivileged processes must reach it.
    root = Path(tempfile.mkdtemp(prefix="satupintu-dovecot-"))
    server = Dovecot(root)
    server.add_user("cs@alpha.example", "rahasia-imap")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
