"""TOTP second factor and one-time recovery codes, on django-otp's devices."""

from __future__ import annotations

import io
import secrets
from typing import TYPE_CHECKING

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from satupintu.accounts.services import sessions
from satupintu.audit import services as audit

if TYPE_CHECKING:
    from satupintu.accounts.models import User

RECOVERY_CODES = 10


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def has_mfa(user: User) -> bool:
    return confirmed_totp(user) is not None


def pending_totp(user: User) -> TOTPDevice:
    """The unconfirmed device being set up; created once, so a reload shows the same secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage,
                        box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [f"{secrets.randbelow(10**5):05d}-{secrets.randbelow(10**5):05d}"
             for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def confirm_setup(request: HttpRequest, user: User, code: str) -> list[str] | None:
    """Confirm the pending device with a code; returns the recovery codes, or None if wrong."""
    device = pending_totp(user)
    if not device.verify_token(code.strip().replace(" ", "")):
        audit.record("auth.mfa_setup_failed", actor=user, obj=user, request=request)
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save()
    codes = _new_recovery_codes(user)
    otp_login(request, device)
    sessions.mark_verified(request)
    audit.record("auth.mfa_enabled", actor=user, obj=user, request=request)
    return codes


def verify(request: HttpRequest, user: User, code: str) -> bool:
    """Check a TOTP code or a recovery code; a used code never works twice."""
    code = code.strip().replace(" ", "")
    totp = confirmed_totp(user)
    if totp is not None:
        allowed, _info = totp.verify_is_allowed()
        if allowed and totp.verify_token(code):
            otp_login(request, totp)
            sessions.mark_verified(request)
            audit.record("auth.mfa_verified", actor=user, obj=user, request=request)
            return True
    for device in StaticDevice.objects.devices_for_user(user, confirmed=True):
        if device.verify_token(code):
            otp_login(request, device)
            sessions.mark_verified(request)
            audit.record("auth.recovery_code_used", actor=user, obj=user, request=request,
                         data={"left": device.token_set.count()})
            return True
    audit.record("auth.mfa_failed", actor=user, obj=user, request=request)
    return False


@transaction.atomic
def regenerate_recovery_codes(request: HttpRequest, user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    audit.record("auth.recovery_codes_regenerated", actor=user, obj=user, request=request)
    return codes


@transaction.atomic
def disable(request: HttpRequest, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit.record("auth.mfa_disabled", actor=user, obj=user, request=request)
