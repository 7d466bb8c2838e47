"""The audit chain: intact when untouched, broken by any edit, insertion or truncation."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection

from satupintu.audit import services as audit
from satupintu.audit.models import AppendOnlyError, AuditEntry
from satupintu.cli import main

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(org):
    for i in range(5):
        audit.record("test.event", actor=org.alice, obj=org.alpha, client=org.alpha,
                     data={"i": i})
    return list(AuditEntry.objects.order_by("id"))


def test_untouched_chain_verifies(chain, capsys):
    checked, problems = audit.verify_chain()
    assert checked == len(chain) and problems == []
    assert main(["audit", "verify"]) == 0
    assert "chain intact" in capsys.readouterr().out


def test_entries_link_to_their_predecessor(chain):
    assert chain[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash


def test_editing_a_row_in_the_database_is_detected(chain, capsys):
    victim = chain[2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET action = %s WHERE id = %s",
                       ["test.innocent", victim.id])
    _checked, problems = audit.verify_chain()
    assert [(p.entry_id, p.reason) for p in problems] == [(victim.id, "content")]
    assert main(["audit", "verify"]) == 1
    assert "TAMPERED" in capsys.readouterr().err


def test_deleting_a_middle_row_is_detected(chain):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [chain[1].id])
    _checked, problems = audit.verify_chain()
    assert problems and problems[0].entry_id == chain[2].id and problems[0].reason == "link"


def test_deleting_the_newest_rows_is_detected(chain):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [chain[-1].id])
    _checked, problems = audit.verify_chain()
    assert [p.reason for p in problems] == ["head"]
    assert main(["audit", "verify"]) == 1


def test_forged_entry_without_the_key_is_detected(chain):
    last = chain[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (created_at, actor_label, action, object_type, "
            "object_id, object_repr, data, prev_hash, hash) VALUES "
            "(%s, 'mallory', 'test.forged', '', '', '', '{}', %s, %s)",
            [last.created_at, last.hash, "f" * 64])
    _checked, problems = audit.verify_chain()
    assert problems


def test_the_model_refuses_updates_and_deletes(chain):
    entry = chain[0]
    entry.action = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_entries_carry_actor_client_and_ip(client, org):
    client.post("/accounts/login/", {"username": "alice", "password": org.password},
                REMOTE_ADDR="10.1.2.3")
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.actor == org.alice and entry.actor_label == "alice"
    assert entry.ip_address == "10.1.2.3"
    assert entry.created_at.utcoffset().total_seconds() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    """Writers in parallel threads (each its own connection) never fork the chain."""
    import threading

    from django.db import connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is private to one connection; "
                    "PostgreSQL runs this test")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                audit.record("test.concurrent", actor_label=f"writer-{n}", data={"i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    checked, problems = audit.verify_chain()
    assert checked == 100 and problems == []
