"""Calls from a PBX or cloud telephony, built from CTI events.

Each event is kept raw first in the inbox (channel ``phone``, external id = the PBX's event
id), so a repeated event is one change. A call keeps the time of every step; its talk, hold
and after-call-work seconds are recomputed from those times on each event, so events that
arrive out of order give the same result as in order, and never a negative duration.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client
from satupintu.cases.models import Case
from satupintu.customers.crypto import EncryptedTextField
from satupintu.customers.models import Customer


class CtiNumber(models.Model):
    """A number of ours (DNIS) and the client whose line it is."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="cti_numbers",
                               verbose_name=_("client"))
    number = models.CharField(_("number"), max_length=32, unique=True,
                              help_text=_("E.164, e.g. +622150001234."))
    queue = models.CharField(_("queue"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("client phone number")
        verbose_name_plural = _("client phone numbers")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class AgentExtension(models.Model):
    """The PBX extension an agent's phone answers on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="cti_extension")
    extension = models.CharField(_("extension"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("agent extension")
        verbose_name_plural = _("agent extensions")

    def __str__(self) -> str:
        return self.extension


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Talking")
    HELD = "held", _("On hold")
    ENDED = "ended", _("After-call work")
    DONE = "done", _("Done")


class Call(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="calls",
                               verbose_name=_("client"))
    call_id = models.CharField(_("call id"), max_length=200)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices,
                                 default=Direction.INBOUND)
    from_number = EncryptedTextField(_("from"), blank=True, default="")
    to_number = EncryptedTextField(_("to"), blank=True, default="")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="calls", verbose_name=_("customer"))
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="calls", verbose_name=_("case"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="calls",
                              verbose_name=_("agent"))
    queue = models.CharField(_("queue"), max_length=100, blank=True, default="")
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices,
                             default=CallState.RINGING)
    ringing_at = models.DateTimeField(_("ringing"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    wrapup_done_at = models.DateTimeField(_("wrap-up done"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), default=0)
    hold_seconds = models.PositiveIntegerField(_("hold (s)"), default=0)
    acw_seconds = models.PositiveIntegerField(_("after-call work (s)"), default=0)
    # Every hold/resume as {"kind": "held"|"resumed", "at": ISO}, sorted by time.
    holds = models.JSONField(default=list, blank=True)
    transfers = models.JSONField(default=list, blank=True)
    popped_to = models.JSONField(default=list, blank=True)  # user ids that got the screen pop
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["client", "call_id"],
                                               name="call_once_per_client")]

    def __str__(self) -> str:
        return self.call_id
