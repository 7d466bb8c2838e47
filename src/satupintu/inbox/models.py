"""Every message that comes in or goes out on any channel, kept before it is acted on.

Inbound: the raw bytes (a MIME message, a webhook body, a chat frame, a CTI event) are
committed first, with the channel's own id (``Message-ID``, WhatsApp ``wamid``, the chat
client's message id, the CTI event id) unique per channel, and only then processed into a
case. A second delivery of the same id is the same row: one interaction, never two. A crash
between storing and processing leaves a ``received`` row that the periodic task processes.

Outbound: the outbox. A reply is queued in the transaction that writes it and sent by a
worker with retries and back-off, so a mail server that is down loses nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client
from satupintu.cases.models import Case, CaseEvent, Channel
from satupintu.customers.crypto import decrypt, encrypt


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed, will retry")
    QUARANTINED = "quarantined", _("Quarantined")
    IGNORED = "ignored", _("Ignored")


class InboundMessage(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    external_id = models.CharField(_("message id"), max_length=255)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("client"))
    # Personal data: encrypted at rest (Fernet, the customers app's keys), as bytes.
    raw_encrypted = models.BinaryField()
    size = models.PositiveBigIntegerField(default=0)
    meta = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=InboundStatus.choices,
                              default=InboundStatus.RECEIVED)
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    received_at = models.DateTimeField(_("received"), db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["received_at", "id"]
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"],
                                               name="inbound_once_per_channel")]
        indexes = [models.Index(fields=["status", "received_at"], name="inbound_pending")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"

    @property
    def raw(self) -> bytes:
        return decrypt_bytes(bytes(self.raw_encrypted))


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Not delivered")


class OutboundMessage(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    recipient_encrypted = models.TextField(blank=True, default="")
    # The message itself is personal data: encrypted JSON. ``kind`` (reply, notice, code,
    # transcript, text, template) stays readable for the operator pages and queries.
    payload_encrypted = models.TextField(blank=True, default="")
    kind = models.CharField(max_length=20, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=OutboundStatus.choices,
                              default=OutboundStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    external_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    delivery = models.CharField(max_length=20, blank=True, default="",
                                help_text=_("Delivery state the channel reported "
                                            "(sent, delivered, read, failed)."))
    created_at = models.DateTimeField(_("created"))
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_due")]

    def __str__(self) -> str:
        return f"{self.channel}→{self.case_id} {self.status}"

    @property
    def recipient(self) -> str:
        return decrypt(self.recipient_encrypted) if self.recipient_encrypted else ""

    @recipient.setter
    def recipient(self, value: str) -> None:
        self.recipient_encrypted = encrypt(value) if value else ""

    @property
    def payload(self) -> dict[str, Any]:
        if not self.payload_encrypted:
            return {}
        value = json.loads(decrypt(self.payload_encrypted))
        return value if isinstance(value, dict) else {}

    @payload.setter
    def payload(self, value: dict[str, Any]) -> None:
        value = dict(value or {})
        self.payload_encrypted = encrypt(json.dumps(value)) if value else ""
        self.kind = str(value.get("kind") or value.get("type") or "")[:20]


def encrypt_bytes(data: bytes) -> bytes:
    from satupintu.customers.crypto import fernet

    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    from satupintu.customers.crypto import fernet

    return fernet().decrypt(token)
