"""The administrators' chat widget set-up page: who may open it, which clients it shows,
and that saving really changes who may frame the chat (the CSP of the chat page)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.utils import translation
from django.utils.translation import gettext

from satupintu.accounts.roles import ROLE_PERMS, Perm, Role
from satupintu.audit.models import AuditEntry
from satupintu.webchat import services
from satupintu.webchat.models import WidgetSettings

pytestmark = pytest.mark.django_db

SETUP = "/chat/setup/"
ALPHA = "/chat/setup/alpha/"
BRAVO = "/chat/setup/bravo/"


def _csp(http, code="alpha"):
    return http.get(f"/chat/w/{code}/")["Content-Security-Policy"]


def _post(http, url, org, client=None, origins="", enabled=True):
    data = {"client": (client or org.alpha).pk, "allowed_origins": origins}
    if enabled:
        data["enabled"] = "on"
    return http.post(url, data)


@pytest.fixture
def supervisors_configure(monkeypatch):
    """A role with the permission but only some clients. No such role exists today
    (administrators see every client), so lend supervisors the permission: the page must
    still keep each to their own clients."""
    monkeypatch.setitem(ROLE_PERMS, Role.SUPERVISOR,
                        ROLE_PERMS[Role.SUPERVISOR] | {Perm.MANAGE_ORGANISATION})


def test_page_renders_for_an_administrator(client, org, login):
    services.configure_widget(org.bravo, by=org.root,
                              allowed_origins=["https://www.bravo.co.id"], enabled=False)
    login(client, org.root)
    with translation.override("en"):
        page = client.get(SETUP).content.decode()
        assert "Chat widget set-up" in page
        assert "Alpha Bank" in page and "Bravo Telco" in page
        assert 'href="/chat/setup/alpha/"' in page and 'href="/chat/setup/bravo/"' in page
        assert "https://www.bravo.co.id" in page
        response = client.get(ALPHA)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Chat widget of Alpha Bank" in page
        assert 'name="allowed_origins"' in page and 'name="enabled"' in page
        # the ready-to-paste tag, escaped once for display, the same as the API gives
        tag = '<script src="http://testserver/chat/widget.js" data-client="alpha" defer></script>'
        assert client.get("/api/v1/chat/widgets/alpha").json()["script"] == tag
        assert ('&lt;script src=&quot;http://testserver/chat/widget.js&quot; '
                'data-client=&quot;alpha&quot; defer&gt;&lt;/script&gt;') in page
        assert 'data-copy-target="embed-snippet"' in page and ">Copy</button>" in page
        # the copy button's script is our own static file, nothing from a CDN
        assert '<script src="/static/webchat/setup.js" defer></script>' in page
        assert finders.find("webchat/setup.js")
        assert all(src.startswith("/static/")
                   for src in re.findall(r'<script[^>]* src="([^"]+)"', page))
        assert "Chat switched on" in page
    bravo = client.get(BRAVO).content.decode()
    assert "https://www.bravo.co.id</textarea>" in bravo
    assert 'id="id_enabled" checked' in page  # Alpha: on (the default)
    assert 'id="id_enabled">' in bravo  # Bravo: saved as off


def test_saving_origins_changes_who_may_frame_the_chat(client, org, login):
    assert _csp(client) == "frame-ancestors 'self'"
    login(client, org.root)
    response = _post(client, ALPHA, org,
                     origins="https://www.alpha.co.id/\r\n\r\n  http://localhost:8080 \r\n")
    assert response.status_code == 302 and response["Location"] == ALPHA
    assert _csp(client) == "frame-ancestors 'self' https://www.alpha.co.id http://localhost:8080"
    assert _csp(client, "bravo") == "frame-ancestors 'self'"  # the other client untouched
    entry = AuditEntry.objects.get(action="webchat.widget_configured")
    assert entry.actor == org.root and entry.client == org.alpha
    with translation.override("en"):
        page = client.get(ALPHA).content.decode()
        assert "Saved." in page  # the flash
    assert "https://www.alpha.co.id\nhttp://localhost:8080</textarea>" in page
    # switched off: the chat page is gone; on again with no origins: own pages only
    assert _post(client, ALPHA, org, origins="https://www.alpha.co.id",
                 enabled=False).status_code == 302
    assert client.get("/chat/w/alpha/").status_code == 404
    assert not WidgetSettings.objects.get(client=org.alpha).enabled
    assert _post(client, ALPHA, org, origins="").status_code == 302
    assert _csp(client) == "frame-ancestors 'self'"


@pytest.mark.parametrize("bad", ["ftp://x", "https://a.example/path", "*",
                                 "javascript:alert(1)"])
def test_bad_origins_are_a_form_error_and_change_nothing(client, org, login, bad):
    services.configure_widget(org.alpha, by=org.root, allowed_origins=["https://ok.example"])
    before = _csp(client)
    configured = AuditEntry.objects.filter(action="webchat.widget_configured")
    audits = configured.count()
    login(client, org.root)
    with translation.override("en"):
        response = _post(client, ALPHA, org, origins=f"https://www.alpha.co.id\n{bad}",
                         enabled=False)
        assert response.status_code == 200
        page = response.content.decode()
        assert 'class="form-error" role="alert">Not a web origin:' in page
        assert "Saved." not in page
    assert _csp(client) == before == "frame-ancestors 'self' https://ok.example"
    row = WidgetSettings.objects.get(client=org.alpha)
    assert row.enabled and row.origins == ["https://ok.example"]
    assert configured.count() == audits == 1
    assert "https://www.alpha.co.id\n" in page  # what was typed is kept for correcting


def test_form_error_is_translated(client, org, login):
    org.root.language = "id"
    org.root.save(update_fields=["language"])
    login(client, org.root)
    response = _post(client, ALPHA, org, origins="ftp://x")
    page = response.content.decode()
    with translation.override("id"):
        expected = gettext("Not a web origin: %(origin)s (write it as "
                           "https://www.example.co.id).") % {"origin": "ftp://x"}
    with translation.override("en"):
        english = gettext("Not a web origin: %(origin)s (write it as "
                          "https://www.example.co.id).") % {"origin": "ftp://x"}
    assert expected != english
    assert expected in page.replace("&#x27;", "'")


def test_too_many_origins_is_a_field_error(client, org, login):
    login(client, org.root)
    origins = "\n".join(f"https://s{i}.example" for i in range(51))
    with translation.override("en"):
        page = _post(client, ALPHA, org, origins=origins).content.decode()
        assert "At most 50 origins." in page
    assert not WidgetSettings.objects.exists()


@pytest.mark.parametrize("who", ["alice", "sam", "charlie"])
def test_without_the_permission_every_view_is_403(client, org, login, who):
    login(client, getattr(org, who))
    assert client.get(SETUP).status_code == 403
    assert client.get(ALPHA).status_code == 403
    assert _post(client, ALPHA, org, origins="https://evil.example").status_code == 403
    assert not WidgetSettings.objects.exists()
    assert _csp(client) == "frame-ancestors 'self'"


def test_anonymous_is_sent_to_log_in(client, org):
    response = client.get(ALPHA)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert _post(client, ALPHA, org, origins="https://evil.example").status_code == 302
    assert not WidgetSettings.objects.exists()


def test_another_clients_widget_can_be_neither_seen_nor_changed(client, org, login,
                                                               supervisors_configure):
    login(client, org.sam)  # supervisor of Alpha only
    with translation.override("en"):
        page = client.get(SETUP).content.decode()
    assert "Alpha Bank" in page and "Bravo Telco" not in page and "/chat/setup/bravo/" not in page
    assert client.get(BRAVO).status_code == 404  # not revealed, as everywhere
    assert _post(client, BRAVO, org, client=org.bravo,
                 origins="https://evil.example").status_code == 404
    # nor through Alpha's page with a forged hidden client field
    response = _post(client, ALPHA, org, client=org.bravo, origins="https://evil.example")
    assert response.status_code == 200
    assert not WidgetSettings.objects.filter(client=org.bravo).exists()
    assert _csp(client, "bravo") == "frame-ancestors 'self'"
    # their own client works
    assert _post(client, ALPHA, org, origins="https://www.alpha.co.id").status_code == 302
    assert _csp(client) == "frame-ancestors 'self' https://www.alpha.co.id"
    assert not WidgetSettings.objects.filter(client=org.bravo).exists()
