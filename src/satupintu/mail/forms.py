"""Forms of the e-mail set-up page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from satupintu.cases.models import Priority
from satupintu.mail.models import LANGUAGES


class AddressForm(forms.Form):
    client = forms.TypedChoiceField(label=_("Client"), coerce=int)
    address = forms.EmailField(label=_("Address"), max_length=254)
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    default_team = forms.TypedChoiceField(label=_("Default team"), coerce=int, required=False,
                                          empty_value=None)
    default_priority = forms.ChoiceField(label=_("Default priority"), choices=Priority.choices,
                                         initial=Priority.NORMAL)
    default_language = forms.ChoiceField(label=_("Default language"), choices=LANGUAGES)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class MailboxForm(forms.Form):
    client = forms.TypedChoiceField(label=_("Client"), coerce=int)
    host = forms.CharField(label=_("IMAP host"), max_length=255)
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=993)
    use_tls = forms.BooleanField(label=_("TLS"), required=False, initial=True)
    username = forms.CharField(label=_("User name"), max_length=255)
    password = forms.CharField(label=_("Password"), required=False, max_length=500,
                               widget=forms.PasswordInput(render_value=False))
    folder = forms.CharField(label=_("Folder"), max_length=255, initial="INBOX")
    address = forms.TypedChoiceField(label=_("Receiving address"), coerce=int, required=False,
                                     empty_value=None,
                                     help_text=_("Its team, priority and language apply."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
