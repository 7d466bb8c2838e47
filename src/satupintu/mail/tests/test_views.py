"""The e-mail set-up page: administrators only; bad input is a form error, never a 500."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from satupintu.mail.models import MailAddress, Mailbox

pytestmark = pytest.mark.django_db


def test_only_administrators_see_the_setup(client: Any, login: Any, org: SimpleNamespace,
                                           addresses: SimpleNamespace) -> None:
    for user in (org.alice, org.sam, org.charlie):
        login(client, user)
        assert client.get("/mail/").status_code == 403
        assert client.post("/mail/addresses/new/", {}).status_code == 403
    login(client, org.root)
    page = client.get("/mail/")
    assert page.status_code == 200
    assert "halo@alpha.example" in page.content.decode()


def test_admin_adds_and_edits_an_address(client: Any, login: Any, org: SimpleNamespace,
                                         addresses: SimpleNamespace) -> None:
    login(client, org.root)
    form = {"client": org.alpha.pk, "address": "Kartu@Alpha.example", "display_name": "Kartu",
            "default_team": org.team_a.pk, "default_priority": "urgent",
            "default_language": "id", "is_active": "on"}
    r = client.post("/mail/addresses/new/", form)
    assert r.status_code == 302
    row = MailAddress.objects.get(address="kartu@alpha.example")
    assert row.default_team == org.team_a and row.default_priority == "urgent"
    # Taken by another client: a form error.
    r = client.post("/mail/addresses/new/", {**form, "client": org.bravo.pk,
                                             "default_team": ""})
    assert r.status_code == 200 and "form-error" in r.content.decode()
    # A team that does not serve the client: 404, nothing saved.
    r = client.post("/mail/addresses/new/", {**form, "address": "z@alpha.example",
                                             "default_team": org.team_b.pk})
    assert r.status_code == 404
    r = client.post(f"/mail/addresses/{row.pk}/", {**form, "is_active": ""})
    assert r.status_code == 302
    assert MailAddress.objects.get(pk=row.pk).is_active is False
    assert client.post("/mail/addresses/new/", {**form, "address": "nope"}).status_code == 200


def test_mailbox_password_kept_when_left_empty(client: Any, login: Any, org: SimpleNamespace,
                                               addresses: SimpleNamespace) -> None:
    login(client, org.root)
    form = {"client": org.alpha.pk, "host": "imap.alpha.example", "port": 993,
            "use_tls": "on", "username": "cs", "password": "rahasia", "folder": "INBOX",
            "address": addresses.alpha.pk, "is_active": "on"}
    assert client.post("/mail/mailboxes/new/", form).status_code == 302
    box = Mailbox.objects.get()
    r = client.post(f"/mail/mailboxes/{box.pk}/", {**form, "password": "", "port": 143,
                                                  "use_tls": ""})
    assert r.status_code == 302
    box.refresh_from_db()
    assert box.password == "rahasia" and box.port == 143 and box.use_tls is False
    page = client.get(f"/mail/mailboxes/{box.pk}/").content.decode()
    assert "rahasia" not in page
    # An address of another client cannot be attached.
    r = client.post("/mail/mailboxes/new/", {**form, "address": addresses.bravo.pk})
    assert r.status_code == 404


def test_case_page_shows_the_email_html_sanitised(client: Any, login: Any, org: SimpleNamespace,
                                                  addresses: SimpleNamespace) -> None:
    from satupintu.mail import services
    from satupintu.mail.tests.conftest import make_mail

    raw = make_mail(message_id="<xss@p.example>", body="Halo",
                    html='<p onclick="steal()">Halo <b>tim</b></p><script>alert("x")</script>'
                         '<a href="javascript:steal()">klik</a><img src="https://t.example/p">')
    row = services.receive_and_process(raw, recipients=["halo@alpha.example"],
                                       mail_from="b@p.example", source="smtp")
    login(client, org.alice)
    page = client.get(f"/cases/{row.case.reference}/").content.decode()
    assert "Halo <b>tim</b>" in page
    assert 'alert("x")' not in page and "steal()" not in page and "t.example/p" not in page
