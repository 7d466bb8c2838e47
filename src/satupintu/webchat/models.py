"""Web chat: a client's widget settings, chat sessions and the per-session message order.

The message text lives on the case timeline (``CaseEvent``); a ``ChatMessage`` only numbers
it within its session (``seq``) and remembers the visitor's own id for it (``cid``), which is
what makes acknowledgements, resends and resume exact: one cid, one entry; one seq, one
message on the visitor's screen.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client
from satupintu.cases.models import Case, CaseEvent
from satupintu.customers.crypto import EncryptedTextField
from satupintu.customers.models import Customer


class WidgetSettings(models.Model):
    """Where a client's chat widget may be embedded and where its chats go."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="chat_widget",
                                  verbose_name=_("client"))
    enabled = models.BooleanField(_("enabled"), default=True)
    allowed_origins = models.TextField(
        _("allowed origins"), blank=True, default="",
        help_text=_("Web sites that may embed the chat, one origin per line "
                    "(https://www.example.co.id)."))

    class Meta:
        verbose_name = _("chat widget settings")
        verbose_name_plural = _("chat widget settings")

    def __str__(self) -> str:
        return f"{self.client_id} chat"

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines()
                if line.strip()]


class SessionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class ChatSession(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="chat_sessions",
                               verbose_name=_("client"))
    # Only the SHA-256 of the visitor's random token is kept: a database read gives no way in.
    token_hash = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="chat_sessions", verbose_name=_("customer"))
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="chat_sessions", verbose_name=_("case"))
    # Personal data (name, e-mail or phone as typed) encrypted at rest, as JSON.
    visitor = EncryptedTextField(_("visitor"), blank=True, default="")
    topic = models.CharField(_("topic"), max_length=200)
    language = models.CharField(_("language"), max_length=5, default="id")
    status = models.CharField(_("status"), max_length=10, choices=SessionStatus.choices,
                              default=SessionStatus.ACTIVE)
    started_at = models.DateTimeField(_("started"), db_index=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    last_seq = models.PositiveIntegerField(default=0)
    visitor_read_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["client", "status"], name="chat_session_open")]

    def __str__(self) -> str:
        return f"chat {self.pk}"


class ChatMessage(models.Model):
    class Sender(models.TextChoices):
        VISITOR = "visitor", _("Visitor")
        AGENT = "agent", _("Agent")

    session = models.ForeignKey(ChatSession, on_delete=models.PROTECT, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=10, choices=Sender.choices)
    cid = models.CharField(max_length=64, blank=True, default="")
    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    file_name = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="chat_seq_once"),
            models.UniqueConstraint(fields=["session", "cid"], condition=~models.Q(cid=""),
                                    name="chat_cid_once"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq}"
