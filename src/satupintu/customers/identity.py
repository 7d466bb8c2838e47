"""Recognising identities: phone numbers (E.164), e-mail addresses, chat ids and the NIK.

One customer writes ``0812…`` on WhatsApp, ``+62 812…`` on the web form and ``62812…`` on
the phone; normalising before the blind index is computed is what makes them one identity.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.id import nik as stdnum_nik

DEFAULT_REGION = "ID"


class IdentityKind(models.TextChoices):
    EMAIL = "email", gettext_lazy("E-mail")
    PHONE = "phone", gettext_lazy("Phone")
    WHATSAPP = "whatsapp", gettext_lazy("WhatsApp")
    CHAT_VISITOR = "chat_visitor", gettext_lazy("Chat visitor")


PHONE_KINDS = frozenset({IdentityKind.PHONE, IdentityKind.WHATSAPP})


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 (``+6281234567890``) with Google's libphonenumber metadata."""
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text and not text.startswith(("+", "0")) and digits.startswith("62"):
        text = "+" + digits  # "62812…" is an Indonesian number written without the plus
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("“%(value)s” is not a valid phone number.") % {"value": raw},
                              code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("“%(value)s” is not a valid phone number.") % {"value": raw},
                              code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    value = (raw or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(_("“%(value)s” is not a valid e-mail address.") % {"value": raw},
                              code="invalid_email") from exc
    return value


def normalise(kind: str, raw: str) -> str:
    """The canonical form of an identity value; raises a translated ValidationError."""
    if kind in PHONE_KINDS:
        return normalise_phone(raw)
    if kind == IdentityKind.EMAIL:
        return normalise_email(raw)
    if kind == IdentityKind.CHAT_VISITOR:
        value = (raw or "").strip()
        if not value or len(value) > 200:
            raise ValidationError(_("A chat visitor id must be 1 to 200 characters."),
                                  code="invalid_chat_id")
        return value
    raise ValidationError(_("Unknown identity kind: %(kind)s") % {"kind": kind},
                          code="invalid_kind")


def normalise_nik(raw: str) -> str:
    """A valid NIK (``PP KK SS DDMMYY NNNN``, women's day + 40) as 16 digits."""
    value = stdnum_nik.compact(raw or "")
    try:
        value = stdnum_nik.validate(value)
    except StdnumError as exc:
        raise ValidationError(_("“%(value)s” is not a valid NIK (16 digits: province, regency, "
                                "district, date of birth, serial).") % {"value": raw},
                              code="invalid_nik") from exc
    if value[12:] == "0000":
        raise ValidationError(_("“%(value)s” is not a valid NIK (16 digits: province, regency, "
                                "district, date of birth, serial).") % {"value": raw},
                              code="invalid_nik")
    return value


def nik_is_female(nik: str) -> bool:
    return int(nik[6:8]) > 40
