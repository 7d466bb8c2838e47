"""Permission changes go through audited services, and only administrators make them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from satupintu.accounts.services import users
from satupintu.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_admin_changes_a_role_and_it_is_audited(org):
    users.change_role(org.alice, "team_leader", by=org.root)
    org.alice.refresh_from_db()
    assert org.alice.role == "team_leader"
    entry = AuditEntry.objects.get(action="accounts.role_changed")
    assert entry.actor == org.root
    assert entry.data == {"from": "agent", "to": "team_leader"}


def test_only_administrators_change_roles(org):
    with pytest.raises(PermissionDenied):
        users.change_role(org.bob, "admin", by=org.sam)
    org.bob.refresh_from_db()
    assert org.bob.role == "agent"
    assert not AuditEntry.objects.filter(action="accounts.role_changed").exists()


def test_unknown_role_and_own_role_are_refused(org):
    with pytest.raises(ValidationError):
        users.change_role(org.alice, "overlord", by=org.root)
    with pytest.raises(ValidationError):
        users.change_role(org.root, "agent", by=org.root)


def test_client_assignment_is_audited_and_changes_scope(client, org, login):
    users.assign_clients(org.alice, [org.alpha, org.bravo], by=org.root)
    entry = AuditEntry.objects.get(action="accounts.clients_changed")
    assert entry.data == {"from": [org.alpha.pk], "to": sorted([org.alpha.pk, org.bravo.pk])}
    login(client, org.alice)
    assert client.get(f"/clients/{org.bravo.pk}/").status_code == 200


def test_deactivated_user_sees_nothing(org):
    from satupintu.accounts.permissions import client_ids, has_perm

    org.alice.is_active = False
    assert client_ids(org.alice) == set()
    assert not has_perm(org.alice, "view_clients")


def test_token_page_creates_and_revokes(client, org, login):
    login(client, org.alice)
    response = client.post("/accounts/tokens/", {"name": "export", "clients": [org.alpha.pk]})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert secret.startswith("sp_")
    token = org.alice.api_tokens.get()
    assert list(token.clients.all()) == [org.alpha]
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    bad = client.post("/accounts/tokens/", {"name": "", "clients": []})
    assert bad.status_code == 400
