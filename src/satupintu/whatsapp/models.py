"""WhatsApp Business Cloud API accounts and message templates, per client.

Secrets (app secret, verify token, access token) are Fernet-encrypted at rest with the
customers app's keys; the management page never shows them back.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client
from satupintu.customers.crypto import EncryptedTextField


class WhatsAppAccount(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="whatsapp_accounts",
                               verbose_name=_("client"))
    phone_number_id = models.CharField(_("phone number id"), max_length=64, unique=True,
                                       help_text=_("The Cloud API's id of the business number."))
    display_number = models.CharField(_("display number"), max_length=32)
    app_secret = EncryptedTextField(_("app secret"))
    verify_token = EncryptedTextField(_("verify token"))
    access_token = EncryptedTextField(_("access token"))
    api_base = models.CharField(_("API base URL"), max_length=200, blank=True, default="",
                                help_text=_("Empty: the WHATSAPP_API_BASE setting."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("WhatsApp account")
        verbose_name_plural = _("WhatsApp accounts")
        ordering = ["client_id", "display_number"]

    def __str__(self) -> str:
        return f"{self.display_number} ({self.phone_number_id})"

    @property
    def base_url(self) -> str:
        return (self.api_base or settings.WHATSAPP_API_BASE).rstrip("/")


PARAM = re.compile(r"\{\{\s*(\d+)\s*\}\}")


class WhatsAppTemplate(models.Model):
    """A message template approved by Meta; the only thing that may be sent outside the
    24-hour customer-service window."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT,
                               related_name="whatsapp_templates", verbose_name=_("client"))
    name = models.SlugField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=10, default="id")
    body = models.TextField(_("text"), help_text=_("With {{1}}, {{2}} … for the parameters."))
    approved = models.BooleanField(_("approved"), default=False)

    class Meta:
        verbose_name = _("WhatsApp template")
        verbose_name_plural = _("WhatsApp templates")
        ordering = ["name", "language"]
        constraints = [models.UniqueConstraint(fields=["client", "name", "language"],
                                               name="wa_template_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def param_count(self) -> int:
        return max((int(n) for n in PARAM.findall(self.body)), default=0)

    def render(self, params: list[str]) -> str:
        return PARAM.sub(lambda m: params[int(m.group(1)) - 1]
                         if 0 < int(m.group(1)) <= len(params) else m.group(0), self.body)


class SandboxMessage(models.Model):
    """What the demo's fake Graph API (/whatsapp/sandbox/) received from the outbound
    sender; the demo shows it as the customer's phone would."""

    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="+")
    wamid = models.CharField(max_length=100, unique=True)
    payload_encrypted = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.wamid
