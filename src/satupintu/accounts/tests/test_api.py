"""The API: tokens, and bad input answered with a stable code and a translated message."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from satupintu.accounts.models import PersonalAccessToken
from satupintu.accounts.services import tokens
from satupintu.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_token_is_stored_hashed_and_works_until_revoked(client, org, login):
    login(client, org.alice)
    response = client.post("/api/v1/tokens", {"name": "reporting"}, content_type="application/json")
    assert response.status_code == 201
    secret = response.json()["secret"]
    row = PersonalAccessToken.objects.get(pk=response.json()["id"])
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    client.logout()
    me = client.get("/api/v1/me", **_bearer(secret))
    assert me.status_code == 200 and me.json()["username"] == "alice"
    tokens.revoke(row, by=org.alice)
    refused = client.get("/api/v1/me", **_bearer(secret))
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    assert AuditEntry.objects.filter(action="api.token_revoked").exists()


def test_expired_and_unknown_tokens_are_refused_and_audited(client, org):
    token, secret = tokens.create(org.alice, "short",
                                  expires_at=timezone.now() + timedelta(hours=1))
    PersonalAccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/me", **_bearer(secret)).status_code == 401
    assert client.get("/api/v1/me", **_bearer("sp_not-a-token")).status_code == 401
    assert AuditEntry.objects.filter(action="api.auth_failed").count() == 2


def test_a_token_cannot_mint_tokens(client, org):
    _token, secret = tokens.create(org.alice, "ci")
    response = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json",
                           **_bearer(secret))
    assert response.status_code == 403


def test_malformed_json_is_400_with_code(client, org, login):
    login(client, org.alice)
    response = client.post("/api/v1/tokens", "{not json", content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"code": "malformed_json",
                               "message": "The request body is not valid JSON."}


def test_unknown_field_is_422_translated(client, org, login):
    login(client, org.alice)
    org.alice.language = "id"
    org.alice.save()
    response = client.post("/api/v1/tokens", {"name": "x", "admin": True},
                           content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_field"
    assert body["message"] == "Permintaan memuat kolom yang tidak dikenal endpoint ini."
    assert not PersonalAccessToken.objects.filter(user=org.alice).exists()


def test_invalid_value_is_422(client, org, login):
    login(client, org.alice)
    response = client.post("/api/v1/tokens", {"name": ""}, content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "invalid_input"


def test_service_rejection_is_400_with_its_message(client, org, login):
    login(client, org.alice)
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = client.post("/api/v1/tokens", {"name": "old", "expires_at": past},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"code": "rejected",
                               "message": "The expiry date must be in the future."}


def test_oversized_body_is_413(client, org, login, settings):
    login(client, org.alice)
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = client.post("/api/v1/tokens", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_anonymous_is_401_and_session_without_mfa_is_refused(client, org):
    assert client.get("/api/v1/me").status_code == 401
    client.force_login(org.sam)  # a supervisor whose second factor is not passed
    assert client.get("/api/v1/me").status_code == 401


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/clients/{client_id}" in schema.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_unknown_api_path_is_json_404(client, org, login):
    login(client, org.alice)
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
