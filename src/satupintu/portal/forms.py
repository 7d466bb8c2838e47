"""The public forms: contact, status look-up, code entry and reply."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client
from satupintu.cases.models import ContactReason
from satupintu.customers.identity import normalise_email, normalise_phone
from satupintu.portal.services import MAX_MESSAGE, MAX_NAME


def reason_choices(client: Client, language: str) -> list[tuple[str, str]]:
    reasons = ContactReason.objects.filter(client=client, is_active=True).select_related("parent")
    labelled = sorted(((str(r.pk), r.path(language)) for r in reasons), key=lambda x: x[1])
    return labelled


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=MAX_NAME)
    email = forms.CharField(label=_("E-mail address"), max_length=254,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Phone number (optional)"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel",
                                                          "inputmode": "tel"}))
    reason = forms.ChoiceField(label=_("Topic"), required=False)
    message = forms.CharField(label=_("Your message"), max_length=MAX_MESSAGE,
                              widget=forms.Textarea(attrs={"rows": 8}))
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by naive bots.
    website = forms.CharField(label=_("Leave this field empty"), required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off",
                                                            "tabindex": "-1"}))
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, client: Client, language: str = "id", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = reason_choices(client, language)
        self.fields["reason"].choices = [("", _("Choose a topic")), *choices]
        self.fields["reason"].required = bool(choices)
        self.fields["message"].widget.attrs["maxlength"] = str(MAX_MESSAGE)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Please give your name."))
        return name

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data["email"])
        except ValidationError as exc:
            raise ValidationError(_("Please give a valid e-mail address.")) from exc

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        try:
            return normalise_phone(raw)
        except ValidationError as exc:
            raise ValidationError(_("Please give a valid phone number, or leave it empty.")) \
                from exc

    def clean_reason(self) -> int | None:
        value = self.cleaned_data.get("reason") or ""
        return int(value) if value.isdigit() else None

    def clean_message(self) -> str:
        text = self.cleaned_data["message"].replace("\x00", "").strip()
        if not text:
            raise ValidationError(_("Please write your message."))
        return text


class LookupForm(forms.Form):
    reference = forms.CharField(label=_("Case reference"), max_length=20,
                                widget=forms.TextInput(attrs={"placeholder": "SP-2026-000123"}))
    identity = forms.CharField(label=_("E-mail address or WhatsApp number"), max_length=254,
                               help_text=_("The one you used to contact us."))


class CodeForm(forms.Form):
    challenge = forms.CharField(widget=forms.HiddenInput, max_length=64)
    code = forms.CharField(label=_("Code"), max_length=12,
                           widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                         "autocomplete": "one-time-code"}))


class ReplyForm(forms.Form):
    message = forms.CharField(label=_("Add a message"), max_length=MAX_MESSAGE,
                              widget=forms.Textarea(attrs={"rows": 4}))
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_message(self) -> str:
        text = self.cleaned_data["message"].replace("\x00", "").strip()
        if not text:
            raise ValidationError(_("Please write your message."))
        return text
