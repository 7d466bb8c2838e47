"""Log-in, lock-out, MFA set-up and verification, recovery codes and session time-outs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from satupintu.accounts.models import UserSession
from satupintu.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _post_login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def _totp_now(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + offset * device.step
    return f"{totp.token():06d}"


def _unthrottle(user) -> None:
    """django-otp delays the next try after a wrong code; a person waits, a test resets it."""
    from django_otp.plugins.otp_static.models import StaticDevice

    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_count=0,
                                               throttling_failure_timestamp=None)


def test_agent_logs_in_without_mfa_and_lands_on_agent_home(client, org):
    response = _post_login(client, "alice", org.password)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "My skills" in home.content.decode()
    assert AuditEntry.objects.filter(action="auth.login", actor=org.alice).exists()
    assert UserSession.objects.filter(user=org.alice, ended_at__isnull=True).count() == 1


def test_wrong_password_is_a_translated_form_error_and_audited(client, org):
    response = _post_login(client, "alice", "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Wrong username or password." in response.content.decode()
    entry = AuditEntry.objects.filter(action="auth.login_failed").latest("id")
    assert entry.data["username"] == "alice"
    client.cookies["django_language"] = "id"
    response = _post_login(client, "alice", "wrong")
    assert "Nama pengguna atau kata sandi salah." in response.content.decode()


def test_repeated_failures_lock_the_account_out(client, org, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "alice", "wrong")
    response = _post_login(client, "alice", org.password)
    assert response.status_code == 429
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_supervisor_must_set_up_mfa_and_gets_recovery_codes(client, org):
    response = _post_login(client, "sam", org.password)
    assert response["Location"] == "/accounts/mfa/setup/"
    # Until the second factor is set up, every page leads back to the set-up.
    assert client.get("/clients/")["Location"] == "/accounts/mfa/setup/"
    page = client.get("/accounts/mfa/setup/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=org.sam, confirmed=False)
    bad = client.post("/accounts/mfa/setup/", {"code": "000000"})
    assert bad.status_code == 400
    assert client.post("/accounts/mfa/setup/", {"code": _totp_now(device)}).status_code == 400, \
        "right after a wrong code the device is throttled"
    _unthrottle(org.sam)
    done = client.post("/accounts/mfa/setup/", {"code": _totp_now(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/clients/").status_code == 200
    assert AuditEntry.objects.filter(action="auth.mfa_enabled", actor=org.sam).exists()


def test_mfa_verify_wrong_code_then_right_code_and_no_reuse(client, org):
    device = TOTPDevice.objects.create(user=org.sam, name="phone", confirmed=True)
    response = _post_login(client, "sam", org.password)
    assert response["Location"].startswith("/accounts/mfa/verify/")
    wrong = client.post("/accounts/mfa/verify/", {"code": "123456"}, HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 400
    assert "That code is not valid" in wrong.content.decode()
    assert AuditEntry.objects.filter(action="auth.mfa_failed").exists()
    _unthrottle(org.sam)
    code = _totp_now(device)
    assert client.post("/accounts/mfa/verify/", {"code": code}).status_code == 302
    assert client.get("/").status_code == 200
    # The same code in a new log-in is refused: a one-time code is used once.
    client.logout()
    _post_login(client, "sam", org.password)
    again = client.post("/accounts/mfa/verify/", {"code": code})
    assert again.status_code == 400


def test_recovery_code_works_once(client, org):
    from satupintu.accounts.services.mfa import _new_recovery_codes

    TOTPDevice.objects.create(user=org.sam, name="phone", confirmed=True)
    codes = _new_recovery_codes(org.sam)
    _post_login(client, "sam", org.password)
    assert client.post("/accounts/mfa/verify/", {"code": codes[0]}).status_code == 302
    client.logout()
    _post_login(client, "sam", org.password)
    assert client.post("/accounts/mfa/verify/", {"code": codes[0]}).status_code == 400
    _unthrottle(org.sam)
    assert client.post("/accounts/mfa/verify/", {"code": codes[1]}).status_code == 302


def test_idle_timeout_logs_out_with_a_message(client, org, settings):
    _post_login(client, "alice", org.password)
    row = UserSession.objects.get(user=org.alice)
    UserSession.objects.filter(pk=row.pk).update(
        last_seen_at=timezone.now() - settings.SESSION_IDLE_TIMEOUT - timedelta(seconds=1))
    response = client.get("/clients/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    row.refresh_from_db()
    assert row.end_reason == "idle"
    assert client.get("/clients/").status_code == 302
    assert AuditEntry.objects.filter(action="auth.session_expired").exists()


def test_absolute_timeout_even_when_active(client, org, settings):
    _post_login(client, "alice", org.password)
    UserSession.objects.filter(user=org.alice).update(
        created_at=timezone.now() - settings.SESSION_ABSOLUTE_TIMEOUT - timedelta(minutes=1))
    response = client.get("/")
    assert response.status_code == 302
    assert UserSession.objects.get(user=org.alice).end_reason == "absolute"


def test_user_sees_and_ends_own_other_session(client, org, django_user_model):
    from django.test import Client

    other = Client(HTTP_USER_AGENT="OtherBrowser/1.0")
    _post_login(other, "alice", org.password)
    _post_login(client, "alice", org.password)
    page = client.get("/accounts/security/").content.decode()
    assert "OtherBrowser/1.0" in page
    row = UserSession.objects.get(user=org.alice, user_agent="OtherBrowser/1.0")
    assert client.post(f"/accounts/sessions/{row.pk}/end/").status_code == 302
    assert other.get("/").status_code == 302  # the other browser is logged out
    assert client.get("/").status_code == 200  # this one is not


def test_user_cannot_end_someone_elses_session(client, org):
    from django.test import Client

    other = Client()
    _post_login(other, "bob", org.password)
    _post_login(client, "alice", org.password)
    bobs = UserSession.objects.get(user=org.bob)
    assert client.post(f"/accounts/sessions/{bobs.pk}/end/").status_code == 404
    assert other.get("/").status_code == 200


def test_administrator_ends_anyones_session(client, org, login):
    from django.test import Client

    other = Client()
    _post_login(other, "bob", org.password)
    login(client, org.root)
    assert "bob" in client.get("/accounts/sessions/all/").content.decode()
    bobs = UserSession.objects.get(user=org.bob)
    assert client.post(f"/accounts/sessions/all/{bobs.pk}/end/").status_code == 302
    assert other.get("/").status_code == 302
    entry = AuditEntry.objects.filter(action="auth.session_ended").latest("id")
    assert entry.actor == org.root and entry.data["reason"] == "ended_by_admin"


def test_agent_cannot_open_the_sessions_of_others(client, org, login):
    login(client, org.alice)
    assert client.get("/accounts/sessions/all/").status_code == 403


def test_language_switch_is_stored_on_the_user(client, org, login):
    login(client, org.alice)
    client.post("/accounts/language/", {"language": "id", "next": "/"})
    org.alice.refresh_from_db()
    assert org.alice.language == "id"
    assert "Keahlian saya" in client.get("/").content.decode()
    bad = client.post("/accounts/language/", {"language": "xx", "next": "/"})
    assert bad.status_code == 302
    org.alice.refresh_from_db()
    assert org.alice.language == "id"


def test_sweeper_ends_sessions_nobody_came_back_to(client, org, settings):
    from django.test import Client

    from satupintu.accounts.services import sessions
    from satupintu.accounts.tasks import sweep_sessions

    _post_login(client, "alice", org.password)
    _post_login(Client(), "bob", org.password)
    UserSession.objects.filter(user=org.alice).update(
        last_seen_at=timezone.now() - settings.SESSION_IDLE_TIMEOUT - timedelta(seconds=5))
    assert sweep_sessions.call_local() == 1
    assert UserSession.objects.get(user=org.alice).end_reason == "idle"
    assert UserSession.objects.get(user=org.bob).ended_at is None
    assert client.get("/").status_code == 302  # the browser's session is gone too
    assert sessions.sweep_expired() == 0
    assert AuditEntry.objects.filter(action="auth.sessions_swept").count() == 1
