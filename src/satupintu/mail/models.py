"""The e-mail channel's own records: where mail arrives, and how messages thread into cases.

``MailAddress``: an address a client receives mail at (via the SMTP/LMTP endpoint) and sends
replies from. ``Mailbox``: an existing IMAP mailbox polled for a client. ``MailThread``: the
Message-ID of every message in or out, pointing at its case, so a reply's ``In-Reply-To`` /
``References`` finds the case. ``MailFingerprint``: blind hashes of recent messages per
sender, to stop a sender (or a broken autoresponder) opening cases in a loop.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client, Team
from satupintu.cases.models import Case, Priority
from satupintu.customers.crypto import EncryptedTextField

LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]


class MailAddress(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="mail_addresses",
                               verbose_name=_("client"))
    address = models.EmailField(_("address"), max_length=254, unique=True,
                                help_text=_("Stored in lower case."))
    display_name = models.CharField(_("display name"), max_length=100, blank=True, default="")
    default_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("default team"))
    default_priority = models.CharField(_("default priority"), max_length=10,
                                        choices=Priority.choices, default=Priority.NORMAL)
    default_language = models.CharField(_("default language"), max_length=5,
                                        choices=LANGUAGES, default="id")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("receiving address")
        verbose_name_plural = _("receiving addresses")
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address

    def save(self, *args: object, **kwargs: object) -> None:
        self.address = (self.address or "").strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Mailbox(models.Model):
    """An IMAP mailbox polled by the periodic task (UID based, UIDVALIDITY checked)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="mailboxes",
                               verbose_name=_("client"))
    address = models.ForeignKey(MailAddress, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="mailboxes", verbose_name=_("receiving address"),
                                help_text=_("Its team, priority and language apply."))
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_tls = models.BooleanField(_("TLS"), default=True)
    username = models.CharField(_("user name"), max_length=255)
    password = EncryptedTextField(_("password"), blank=True, default="")
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("IMAP mailbox")
        verbose_name_plural = _("IMAP mailboxes")
        ordering = ["host", "username"]

    def __str__(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


class MailThread(models.Model):
    """One Message-ID we received or sent, and the case it belongs to."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=255)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    inbound = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["client", "message_id"],
                                               name="mailthread_once_per_client")]
        indexes = [models.Index(fields=["case", "inbound", "created_at"],
                                name="mailthread_case")]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.case_id}"


class MailFingerprint(models.Model):
    """HMAC of (client, sender, subject, text) of a processed message: no content kept."""

    key = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key[:12]
