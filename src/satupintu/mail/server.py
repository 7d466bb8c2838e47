"""The SMTP/LMTP receiving endpoint (aiosmtpd), for an MTA to deliver to.

Per message: the size is checked (SIZE is announced; larger mail is refused with 552), the
client is found from the RCPT addresses (unknown: quarantined, or refused with 550 at RCPT
when ``MAIL_UNKNOWN_RECIPIENT=reject``), the raw bytes are committed, and only then is "250"
sent. Processing into a case runs afterwards on a thread pool; if the process dies first, the
inbox core's periodic ``recover`` processes the stored message. A database error while
storing answers 451 so the MTA tries again later: nothing is acknowledged that is not stored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import connection

from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, InboundStatus
from satupintu.mail import services

log = logging.getLogger(__name__)


def _db_job(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on this thread's connection; a dropped connection is reopened once."""
    from django.db import InterfaceError, OperationalError

    try:
        return fn()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
        return fn()


class MailHandler:
    """aiosmtpd handler: store first, answer, then process."""

    def __init__(self, *, lmtp: bool = False, store_executor: Executor | None = None,
                 process_executor: Executor | None = None, process: bool = True) -> None:
        self.lmtp = lmtp
        self.store_executor = store_executor or ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="mail-store")
        self.process_executor = process_executor or ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="mail-process")
        self.process = process
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self.stored = 0

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if settings.MAIL_UNKNOWN_RECIPIENT == "reject":
            loop = asyncio.get_running_loop()
            found = await loop.run_in_executor(
                self.store_executor, _db_job, lambda: services.find_address([address]))
            if found is None:
                return "550 5.1.1 No client receives mail at this address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # pragma: no cover - decode_data is off
            raw = raw.encode("utf-8", "surrogateescape")
        if services.too_large(len(raw)):
            return self._answer(envelope, "552 5.3.4 Message too big for this system "
                                f"(limit {settings.MAIL_MAX_MESSAGE_BYTES} bytes)")
        mail_from = envelope.mail_from or ""
        recipients = list(envelope.rcpt_tos)
        loop = asyncio.get_running_loop()

        def store() -> InboundMessage:
            row, _created = services.receive(
                bytes(raw), recipients=recipients, mail_from=mail_from,
                source="lmtp" if self.lmtp else "smtp")
            return row

        try:
            row = await loop.run_in_executor(self.store_executor, _db_job, store)
        except Exception:
            log.exception("could not store an inbound e-mail")
            return self._answer(envelope, "451 4.3.0 Temporary failure storing the message, "
                                "try again later")
        self.stored += 1
        if self.process and row.status == InboundStatus.RECEIVED:
            self._schedule(row.pk)
        return self._answer(envelope, f"250 2.0.0 OK stored as {row.pk}")

    def _answer(self, envelope: Envelope, line: str) -> str:
        if self.lmtp:  # LMTP answers DATA once per recipient
            return "\r\n".join([line] * max(1, len(envelope.rcpt_tos)))
        return line

    def _schedule(self, pk: int) -> None:
        def work() -> None:
            row = InboundMessage.objects.filter(pk=pk).first()
            if row is not None:
                inbox.process(row)

        future = self.process_executor.submit(_db_job, work)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)
        if future.exception() is not None:  # recover() will pick the message up
            log.error("processing an inbound e-mail failed: %s", future.exception())

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every scheduled message is processed (tests, shutdown)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.01)
        return False


class MailController(Controller):
    """aiosmtpd's threaded controller, SMTP or LMTP, with our size limit."""

    def __init__(self, handler: MailHandler, hostname: str = "127.0.0.1", port: int = 2525,
                 reuse_port: bool = False, **kwargs: Any) -> None:
        self.reuse_port = reuse_port
        kwargs.setdefault("data_size_limit", settings.MAIL_MAX_MESSAGE_BYTES)
        kwargs.setdefault("server_hostname", "satupintu")
        kwargs.setdefault("decode_data", False)
        self.lmtp = handler.lmtp
        super().__init__(handler, hostname=hostname, port=port, **kwargs)

    def _create_server(self) -> Any:
        """As aiosmtpd's, plus SO_REUSEPORT: several processes can serve one port."""
        return self.loop.create_server(self._factory_invoker, host=self.hostname,
                                       port=self.port, ssl=self.ssl_context,
                                       reuse_port=self.reuse_port or None)

    def _trigger_server(self) -> None:
        if self.reuse_port:  # a test connection may reach a sibling process: build it here
            self.loop.call_soon_threadsafe(self._factory_invoker)
            return
        super()._trigger_server()

    def factory(self) -> SMTP:
        cls = LMTP if self.lmtp else SMTP
        server = cls(self.handler, **self.SMTP_kwargs)
        return server


def start(host: str = "127.0.0.1", port: int = 2525, *, lmtp: bool = False,
          handler: MailHandler | None = None, reuse_port: bool = False) -> MailController:
    """Start the endpoint in a background thread; ``.stop()`` ends it."""
    controller = MailController(handler or MailHandler(lmtp=lmtp), hostname=host, port=port,
                                reuse_port=reuse_port)
    controller.start()
    return controller
