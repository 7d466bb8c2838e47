"""Nothing lost, nothing twice: the inbox core under injected failures, channel-agnostic.

A test processor (channel ``test``) turns a JSON body into a customer message; each test
counts timeline entries against stored ids: every stored message ends as exactly one entry.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from satupintu.audit.models import AuditEntry
from satupintu.cases.models import Case, CaseEvent
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from satupintu.inbox.tests.fake_channel import test_processor

ROOT = Path(__file__).resolve().parents[4]
LATER = timedelta(hours=2)



@pytest.fixture
def registry():
    saved_p, saved_s = dict(inbox._PROCESSORS), dict(inbox._SENDERS)
    inbox.register_processor("test", test_processor)
    yield inbox
    inbox._PROCESSORS.clear()
    inbox._PROCESSORS.update(saved_p)
    inbox._SENDERS.clear()
    inbox._SENDERS.update(saved_s)


def _raw(i: int | str, sender: str = "dewi@example.co.id") -> bytes:
    return json.dumps({"from": sender, "to": "cs@alpha", "text": f"message {i}"}).encode()


def _events_for(ext: str) -> int:
    return CaseEvent.objects.filter(kind=CaseEvent.Kind.INBOUND, data__ext=ext).count()


@pytest.mark.django_db
def test_processing_exception_keeps_the_message_and_recover_processes_it_once(org, registry):
    calls = {"n": 0}
    real = inbox._PROCESSORS["test"]

    def flaky(message):
        event = real(message)  # writes a case and an event ...
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")  # ... which this rolls back
        return event

    inbox.register_processor("test", flaky)
    message, created = inbox.store_raw("test", "ext-1", _raw(1), client=org.alpha)
    assert created
    message = inbox.process(message)
    assert message.status == InboundStatus.FAILED and message.attempts == 1
    assert "database went away" in message.last_error
    assert _events_for("ext-1") == 0 and not Case.objects.exists()
    assert inbox.recover() == 0  # not due yet: back-off
    assert inbox.recover(now=timezone.now() + LATER) == 1
    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED and message.event is not None
    assert _events_for("ext-1") == 1 and Case.objects.count() == 1
    assert inbox.recover(now=timezone.now() + LATER) == 0
    inbox.process(message)  # processing again is a no-op
    assert _events_for("ext-1") == 1


@pytest.mark.django_db
def test_repeated_failures_end_in_quarantine_not_in_a_loop(org, registry):
    def broken(message):
        raise ValueError("cannot parse")

    inbox.register_processor("test", broken)
    message, _created = inbox.store_raw("test", "ext-bad", b"\xff\xfe", client=org.alpha)
    inbox.process(message)
    for _ in range(inbox.MAX_ATTEMPTS):
        inbox.recover(now=timezone.now() + timedelta(days=1))
    message.refresh_from_db()
    assert message.status == InboundStatus.QUARANTINED
    assert message.attempts == inbox.MAX_ATTEMPTS
    assert AuditEntry.objects.filter(action="inbox.quarantined").count() == 1
    assert bytes(message.raw) == b"\xff\xfe"  # kept as it came


@pytest.mark.django_db
def test_the_same_delivery_twice_is_one_row_and_one_entry(org, registry):
    first, created_1 = inbox.store_raw("test", "dup", _raw("x"), client=org.alpha)
    second, created_2 = inbox.store_raw("test", "dup", _raw("x"), client=org.alpha)
    assert created_1 and not created_2 and first.pk == second.pk
    inbox.process(first)
    inbox.process(second)
    assert InboundMessage.objects.count() == 1 and _events_for("dup") == 1


WORKER = '''
import json, sys, time
from satupintu.inbox import services as inbox
from satupintu.inbox.tests.fake_channel import test_processor
from satupintu.accounts.models import Client
from satupintu.inbox.models import InboundMessage

n, hang_at = int(sys.argv[1]), int(sys.argv[2])
client = Client.objects.get(code="alpha")
for i in range(n):
    inbox.store_raw("test", f"batch-{i}", json.dumps(
        {"from": f"c{i % 7}@example.com", "to": "cs@alpha", "text": f"message {i}"}).encode(),
        client=client)
print("STORED", flush=True)


def hanging(message):
    event = test_processor(message)
    if message.external_id == f"batch-{hang_at}":
        print("INSIDE", flush=True)  # the case and event are written, not committed
        time.sleep(120)
    return event


inbox.register_processor("test", hanging)
for message in InboundMessage.objects.filter(channel="test").order_by("id"):
    inbox.process(message)
print("FINISHED", flush=True)
'''


def _worker_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": settings.SECRET_KEY,
                "SATUPINTU_TESTING": "1", "DJANGO_SETTINGS_MODULE": "satupintu.config.settings",
                "PYTHONPATH": str(ROOT / "src")})
    return env


def _postgres_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _run_and_kill(database_url: str, n: int, hang_at: int) -> list[str]:
    script = "import django; django.setup()\n" + WORKER
    proc = subprocess.Popen([sys.executable, "-c", script, str(n), str(hang_at)], cwd=ROOT,
                            env=_worker_env(database_url), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if line.strip() == "INSIDE":
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
        err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == -signal.SIGKILL, (lines, err[-3000:])
    return lines


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(org, registry, tmp_path):
    n, hang_at = 40, 17
    if connection.vendor == "postgresql":
        lines = _run_and_kill(_postgres_url(), n, hang_at)
    else:
        # The test database lives in memory: hand the worker a file copy, then take it back.
        import sqlite3

        path = tmp_path / "worker.sqlite3"
        target = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        lines = _run_and_kill(f"sqlite:///{path}", n, hang_at)
        source = sqlite3.connect(path)
        source.backup(connection.connection)
        source.close()
    assert lines == ["STORED", "INSIDE"]
    ids = [f"batch-{i}" for i in range(n)]
    stored = InboundMessage.objects.filter(channel="test")
    assert sorted(stored.values_list("external_id", flat=True)) == sorted(ids)
    assert stored.filter(status=InboundStatus.PROCESSED).count() == hang_at
    assert stored.filter(status=InboundStatus.RECEIVED).count() == n - hang_at
    # the killed transaction left nothing behind
    assert _events_for(f"batch-{hang_at}") == 0
    assert inbox.recover(now=timezone.now() + LATER) == n - hang_at
    assert stored.filter(status=InboundStatus.PROCESSED).count() == n
    counts = {ext: _events_for(ext) for ext in ids}
    assert set(counts.values()) == {1}, counts  # zero lost, zero duplicated
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.INBOUND).count() == n
    assert inbox.recover(now=timezone.now() + LATER) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
def test_the_same_id_delivered_concurrently_is_one_row_and_one_entry(org, registry):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers")
    from django.db import connections

    workers = 8
    barrier = threading.Barrier(workers)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def deliver_once() -> None:
        try:
            barrier.wait()
            message, created = inbox.store_raw("test", "same-id", _raw("c"), client=org.alpha)
            inbox.process(message)
            results.append((message.pk, created))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver_once) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert InboundMessage.objects.filter(external_id="same-id").count() == 1
    assert _events_for("same-id") == 1
    assert InboundMessage.objects.get(external_id="same-id").status == InboundStatus.PROCESSED


@pytest.fixture
def a_case(org):
    from satupintu.customers.services import find_or_create_contact

    customer = find_or_create_contact(org.alpha, "email", "dewi@example.co.id")
    from satupintu.cases import services as cases

    return cases.create_case(org.alpha, customer, "Kartu terblokir", by=None, body="Tolong")


@pytest.mark.django_db
def test_a_sender_down_then_up_sends_exactly_once(a_case, registry,
                                                  django_capture_on_commit_callbacks):
    state = {"up": False, "sent": []}

    def sender(message):
        if not state["up"]:
            raise ConnectionRefusedError("SMTP sink is down")
        state["sent"].append(message.pk)
        return f"<{message.pk}@test>"

    inbox.register_sender("test", sender)
    with django_capture_on_commit_callbacks(execute=True):
        queued = inbox.queue_outbound(a_case, "test", "dewi@example.co.id", payload={"t": 1})
    queued.refresh_from_db()
    assert queued.status == OutboundStatus.FAILED and queued.attempts == 1
    assert "down" in queued.last_error
    inbox.send_due()  # not due yet
    assert queued.attempts == OutboundMessage.objects.get(pk=queued.pk).attempts
    state["up"] = True
    later = timezone.now() + LATER
    assert inbox.send_due(now=later) == 1
    queued.refresh_from_db()
    assert queued.status == OutboundStatus.SENT and queued.external_id == f"<{queued.pk}@test>"
    inbox.send_due(now=later)
    inbox.send_one(queued)
    assert state["sent"] == [queued.pk]


@pytest.mark.django_db
def test_a_dead_message_is_sent_once_after_an_operator_retry(a_case, org, registry,
                                                             django_capture_on_commit_callbacks):
    sent: list[int] = []

    def down(message):
        raise TimeoutError("no answer")

    inbox.register_sender("test", down)
    queued = inbox.queue_outbound(a_case, "test", "dewi@example.co.id")
    for i in range(inbox.MAX_ATTEMPTS):
        inbox.send_due(now=timezone.now() + timedelta(days=i + 1))
    queued.refresh_from_db()
    assert queued.status == OutboundStatus.DEAD
    assert AuditEntry.objects.filter(action="inbox.outbound_dead").count() == 1
    inbox.register_sender("test", lambda m: sent.append(m.pk) or "ok")
    with django_capture_on_commit_callbacks(execute=True):
        inbox.retry_outbound(queued, by=org.root)
    inbox.send_due(now=timezone.now() + LATER)
    queued.refresh_from_db()
    assert queued.status == OutboundStatus.SENT and sent == [queued.pk]
    assert AuditEntry.objects.filter(action="inbox.outbound_retried").count() == 1
