"""The form of the chat widget set-up page. Origins are only split into lines here: whether
each is a web origin is the service's rule (``services.configure_widget``), so the page and
the API can never disagree."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client

MAX_ORIGINS = 50  # as the API's WidgetIn


class WidgetForm(forms.Form):
    # The page is one client's; the field exists for ``client_form_page`` (which checks it
    # against the user's clients) and is limited to that one client by the view.
    client = forms.TypedChoiceField(label=_("Client"), coerce=int, widget=forms.HiddenInput)
    enabled = forms.BooleanField(
        label=_("Chat switched on"), required=False, initial=True,
        help_text=_("Off: the chat page and the pre-chat form refuse every visitor."))
    allowed_origins = forms.CharField(
        label=_("Allowed origins"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60, "spellcheck": "false",
                                     "autocapitalize": "off", "style": "width:100%"}),
        help_text=_("The web sites that may show the chat, one per line, as "
                    "scheme://host[:port] (https://www.example.co.id). Empty: only "
                    "SatuPintu's own pages."))

    def __init__(self, *args: Any, widget_client: Client, snippet: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.widget_client = widget_client
        self.snippet = snippet

    def clean_allowed_origins(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines()]
        origins = [line for line in lines if line]
        if len(origins) > MAX_ORIGINS:
            raise ValidationError(_("At most %(n)d origins.") % {"n": MAX_ORIGINS},
                                  code="too_many")
        return origins
