"""Forms of the WhatsApp management page and the demo sandbox."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AccountForm(forms.Form):
    client = forms.TypedChoiceField(label=_("Client"), coerce=int)
    phone_number_id = forms.CharField(label=_("Phone number id"), max_length=64)
    display_number = forms.CharField(label=_("Display number"), max_length=32)
    app_secret = forms.CharField(label=_("App secret"), required=False, max_length=500,
                                 widget=forms.PasswordInput(render_value=False))
    verify_token = forms.CharField(label=_("Verify token"), required=False, max_length=500,
                                   widget=forms.PasswordInput(render_value=False))
    access_token = forms.CharField(label=_("Access token"), required=False, max_length=2000,
                                   widget=forms.PasswordInput(render_value=False))
    api_base = forms.CharField(label=_("API base URL"), required=False, max_length=200,
                               help_text=_("Empty: the WHATSAPP_API_BASE setting."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class TemplateForm(forms.Form):
    client = forms.TypedChoiceField(label=_("Client"), coerce=int)
    name = forms.SlugField(label=_("Name"), max_length=100)
    language = forms.ChoiceField(label=_("Language"),
                                 choices=[("id", "Bahasa Indonesia"), ("en", "English")])
    body = forms.CharField(label=_("Text"), max_length=1024, widget=forms.Textarea(
        attrs={"rows": 3}), help_text=_("With {{1}}, {{2}} … for the parameters."))
    approved = forms.BooleanField(label=_("Approved by WhatsApp"), required=False)


class SandboxForm(forms.Form):
    account = forms.TypedChoiceField(label=_("WhatsApp number"), coerce=int)
    number = forms.CharField(label=_("Customer's number"), max_length=32,
                             initial="+6281234567890")
    name = forms.CharField(label=_("Customer's name"), max_length=100, required=False)
    text = forms.CharField(label=_("Message"), max_length=4096,
                           widget=forms.Textarea(attrs={"rows": 3}))
