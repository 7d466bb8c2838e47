"""Configuration API: administrators only, scoped, validated, passwords never returned."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from satupintu.mail.models import MailAddress, Mailbox

pytestmark = pytest.mark.django_db


def post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/mail{path}", data=json.dumps(body),
                       content_type="application/json")


def test_admin_creates_an_address_agent_may_not(client: Any, login: Any,
                                               org: SimpleNamespace) -> None:
    login(client, org.alice)
    assert post(client, "/addresses", {"client_id": org.alpha.pk,
                                       "address": "a@alpha.example"}).status_code == 403
    login(client, org.root)
    r = post(client, "/addresses", {"client_id": org.alpha.pk, "address": " Halo@Alpha.Example",
                                    "default_team_id": org.team_a.pk})
    assert r.status_code == 201, r.content
    assert r.json()["address"] == "halo@alpha.example"
    # The same address for another client: a clear 400, not a 500.
    r = post(client, "/addresses", {"client_id": org.bravo.pk, "address": "halo@alpha.example"})
    assert r.status_code == 400 and r.json()["code"]
    # A team of another client: 404; a bad address: 400.
    r = post(client, "/addresses", {"client_id": org.alpha.pk, "address": "x@alpha.example",
                                    "default_team_id": org.team_b.pk})
    assert r.status_code == 404
    assert post(client, "/addresses", {"client_id": org.alpha.pk,
                                       "address": "not an address"}).status_code == 400
    assert MailAddress.objects.count() == 1
    listed = client.get("/api/v1/mail/addresses").json()
    assert [a["address"] for a in listed] == ["halo@alpha.example"]


def test_mailbox_password_encrypted_and_never_returned(client: Any, login: Any,
                                                       org: SimpleNamespace) -> None:
    login(client, org.root)
    r = post(client, "/mailboxes", {"client_id": org.alpha.pk, "host": "imap.alpha.example",
                                    "username": "cs", "password": "sangat-rahasia"})
    assert r.status_code == 201, r.content
    assert "password" not in r.json()
    assert "sangat-rahasia" not in json.dumps(client.get("/api/v1/mail/mailboxes").json())
    with connection.cursor() as c:
        c.execute("SELECT password FROM mail_mailbox")
        stored = c.fetchone()[0]
    assert "sangat-rahasia" not in stored
    assert Mailbox.objects.get().password == "sangat-rahasia"
