"""Routing in the platform: queues, versioned rules, agent presence, routable work, offers.

The decisions themselves are the engine router's (``satupintu.engine.router``); these tables
hold what it decides over, so that every process sees the same state and every decision is
made under row locks. Presence and routing history are append-only event logs: adherence,
the wallboard and the reports are all computed from them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client, Skill, Team
from satupintu.cases.models import Case, Channel


class EngineChannel(models.TextChoices):
    """The router's capacity channels (a call blocks everything; chats and e-mails mix)."""

    CALL = "call", _("Call")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")


# Case channel → router channel.
ENGINE_CHANNEL = {
    Channel.PHONE: EngineChannel.CALL,
    Channel.CHAT: EngineChannel.CHAT,
    Channel.WHATSAPP: EngineChannel.CHAT,
    Channel.EMAIL: EngineChannel.EMAIL,
    Channel.WEB: EngineChannel.EMAIL,
}


class RoutingSettings(models.Model):
    """Per-client routing behaviour; a client without a row uses the defaults."""

    class AfterWrapUp(models.TextChoices):
        READY = "ready", _("Ready")
        NOT_READY = "not_ready", _("Not ready")

    client = models.OneToOneField(Client, on_delete=models.CASCADE,
                                  related_name="routing_settings")
    acw_max_seconds = models.PositiveIntegerField(_("longest after-contact work (seconds)"),
                                                  default=120)
    after_acw = models.CharField(_("after the longest after-contact work"), max_length=10,
                                 choices=AfterWrapUp.choices, default=AfterWrapUp.READY)
    heartbeat_timeout_seconds = models.PositiveIntegerField(
        _("presence lost after (seconds without heartbeat)"), default=90)
    sl_threshold_seconds = models.PositiveIntegerField(_("service level threshold (seconds)"),
                                                       default=20)
    sl_target_percent = models.PositiveSmallIntegerField(_("service level target (%)"),
                                                         default=80)
    sl_formula = models.CharField(
        _("service level formula"), max_length=30, default="answered_over_offered",
        help_text=_("How abandoned contacts count; the names of satupintu.engine.kpi."))

    class Meta:
        verbose_name = _("routing settings")
        verbose_name_plural = _("routing settings")

    def __str__(self) -> str:
        return f"{self.client} routing"


class RuleVersion(models.Model):
    """One saved version of a client's routing rules (the engine's YAML format, one document
    covering all the client's queues). Never edited: a change is a new version."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="rule_versions")
    number = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("rules (YAML)"))
    comment = models.CharField(_("what changed"), max_length=200, blank=True, default="")
    is_current = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("saved"))

    class Meta:
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        ordering = ["client", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["client", "number"], name="ruleversion_unique"),
            models.UniqueConstraint(fields=["client"], condition=Q(is_current=True),
                                    name="ruleversion_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.client} v{self.number}"

    @property
    def engine_version(self) -> str:
        """The version string interactions are pinned to (unique across clients)."""
        return f"{self.client_id}.{self.number}"


class Queue(models.Model):
    """Where routable work of one client and channel waits. Its ``code`` names its plan in
    the client's rules (``queues: {<code>: ...}``; a ``default`` plan covers the rest)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="queues",
                               verbose_name=_("client"))
    code = models.SlugField(_("code"), max_length=40)
    name_id = models.CharField(_("name (Indonesian)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="queues", verbose_name=_("team"))
    skills = models.ManyToManyField(Skill, blank=True, related_name="queues",
                                    verbose_name=_("required skills"))
    min_proficiency = models.PositiveSmallIntegerField(_("minimum proficiency"), default=1)
    language = models.CharField(_("language"), max_length=5, blank=True, default="")
    is_default = models.BooleanField(
        _("default for its channel"), default=False,
        help_text=_("New contacts of this client and channel enter this queue unless a more "
                    "specific one matches."))
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["client", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["client", "code"], name="queue_unique")]

    def __str__(self) -> str:
        return self.label()

    def label(self, language: str = "id") -> str:
        return self.name_en if language == "en" else self.name_id


class ReasonCode(models.Model):
    """Why an agent is not ready. ``client`` empty: offered to every client's agents."""

    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="reason_codes")
    code = models.SlugField(_("code"), max_length=40)
    name_id = models.CharField(_("name (Indonesian)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    paid = models.BooleanField(_("paid"), default=True)
    adherent_when_scheduled = models.BooleanField(
        _("adherent when scheduled"), default=True,
        help_text=_("Counts as adherent when the schedule has the matching activity."))
    max_minutes = models.PositiveSmallIntegerField(
        _("longest expected (minutes)"), null=True, blank=True,
        help_text=_("The wallboard flags an agent in this state for longer."))
    system = models.BooleanField(default=False, help_text=_("Set by the platform, not chosen."))
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("reason code")
        verbose_name_plural = _("reason codes")
        ordering = ["order", "code"]
        constraints = [models.UniqueConstraint(fields=["client", "code"],
                                               name="reasoncode_unique")]

    def __str__(self) -> str:
        return self.label()

    def label(self, language: str = "id") -> str:
        return self.name_en if language == "en" else self.name_id


class PresenceState(models.TextChoices):
    LOGGED_OUT = "logged_out", _("Logged out")
    READY = "ready", _("Ready")
    NOT_READY = "not_ready", _("Not ready")
    ACW = "acw", _("After-contact work")


class AgentPresence(models.Model):
    """One row per agent: the current presence and load, locked when routing decides.

    Loads count offered + accepted contacts per router channel; the check constraints make
    "over capacity" impossible at the database, whatever a process does."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="presence")
    state = models.CharField(max_length=12, choices=PresenceState.choices,
                             default=PresenceState.LOGGED_OUT)
    reason = models.ForeignKey(ReasonCode, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    since = models.DateTimeField()
    load_call = models.PositiveSmallIntegerField(default=0)
    load_chat = models.PositiveSmallIntegerField(default=0)
    load_email = models.PositiveSmallIntegerField(default=0)
    cap_call = models.PositiveSmallIntegerField(default=1)
    cap_chat = models.PositiveSmallIntegerField(default=3)
    cap_email = models.PositiveSmallIntegerField(default=5)
    last_contact_end = models.DateTimeField(null=True, blank=True)
    contacts_today = models.PositiveIntegerField(default=0)
    contacts_day = models.DateField(null=True, blank=True)
    missed_offers = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The one connection (tab, machine) that holds the presence; another login takes it over.
    connection = models.CharField(max_length=64, blank=True, default="")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("agent presence")
        verbose_name_plural = _("agent presences")
        indexes = [models.Index(fields=["state"], name="presence_state")]
        constraints = [
            models.CheckConstraint(condition=Q(load_call__lte=F("cap_call")),
                                   name="presence_call_capacity"),
            models.CheckConstraint(condition=Q(load_chat__lte=F("cap_chat")),
                                   name="presence_chat_capacity"),
            models.CheckConstraint(condition=Q(load_email__lte=F("cap_email")),
                                   name="presence_email_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.state}"

    def load(self, channel: str) -> int:
        return int(getattr(self, f"load_{channel}"))

    def capacity(self, channel: str) -> int:
        return int(getattr(self, f"cap_{channel}"))


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("append-only")


class PresenceEvent(AppendOnly):
    """Every presence change, in UTC: what adherence and the wallboard are computed from."""

    class Source(models.TextChoices):
        AGENT = "agent", _("Agent")
        SUPERVISOR = "supervisor", _("Supervisor")
        SYSTEM = "system", _("System")
        CONNECTION_LOST = "connection_lost", _("Connection lost")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="presence_events")
    state = models.CharField(max_length=12, choices=PresenceState.choices)
    reason_code = models.CharField(max_length=40, blank=True, default="")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.AGENT)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["user", "at"], name="presenceevent_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.state} {self.at:%H:%M:%S}"


class WorkStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered")
    ASSIGNED = "assigned", _("Being handled")
    WRAP_UP = "wrap_up", _("After-contact work")
    DONE = "done", _("Done")
    ABANDONED = "abandoned", _("Abandoned")
    CANCELLED = "cancelled", _("Cancelled")


LIVE_WORK = (WorkStatus.WAITING, WorkStatus.OFFERED, WorkStatus.ASSIGNED, WorkStatus.WRAP_UP)


class WorkItem(models.Model):
    """One routable interaction: a case that needs an agent now, in one queue."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="work_items")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="work_items")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=EngineChannel.choices)
    rules = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="+")
    priority = models.SmallIntegerField(default=0)
    vip = models.BooleanField(default=False)
    language = models.CharField(max_length=5, blank=True, default="")
    skills = models.JSONField(default=dict, blank=True)   # {skill code: minimum proficiency}
    reason_code = models.CharField(max_length=40, blank=True, default="")
    preferred_agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=WorkStatus.choices,
                              default=WorkStatus.WAITING)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="work_items")
    enqueued_at = models.DateTimeField(db_index=True)
    # In its current queue since (an overflow moves it); empty: since enqueued_at.
    queue_since = models.DateTimeField(null=True, blank=True)
    # A callback keeps its place: it is ordered by this, not by enqueued_at.
    place_at = models.DateTimeField()
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    wrap_up_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.JSONField(default=list, blank=True)  # user ids who declined/missed
    offers = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("routed contact")
        verbose_name_plural = _("routed contacts")
        ordering = ["place_at", "id"]
        indexes = [
            models.Index(fields=["status", "client", "place_at"], name="work_waiting"),
            models.Index(fields=["status", "offer_expires_at"], name="work_offers"),
            models.Index(fields=["agent", "status"], name="work_agent"),
        ]
        constraints = [
            # One live routing entry per case: a customer writing twice is one contact.
            models.UniqueConstraint(fields=["case"], condition=Q(status__in=list(LIVE_WORK)),
                                    name="work_one_live_per_case"),
            models.CheckConstraint(
                condition=Q(agent__isnull=False) | Q(status__in=[
                    WorkStatus.WAITING, WorkStatus.ABANDONED, WorkStatus.CANCELLED]),
                name="work_agent_when_offered"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.status}"


class RoutingEvent(AppendOnly):
    """Every routing step of a work item: the source of offered/answered/abandoned counts,
    waiting times and handle times on the wallboard and in the reports."""

    class Kind(models.TextChoices):
        ENQUEUED = "enqueued", _("Entered the queue")
        OVERFLOWED = "overflowed", _("Overflowed to another queue")
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        MISSED = "missed", _("Offer missed")
        WITHDRAWN = "withdrawn", _("Offer withdrawn")
        TRANSFERRED = "transferred", _("Re-assigned")
        WRAP_UP = "wrap_up", _("After-contact work")
        DONE = "done", _("Done")
        ABANDONED = "abandoned", _("Abandoned")
        CANCELLED = "cancelled", _("Cancelled")

    item = models.ForeignKey(WorkItem, on_delete=models.PROTECT, related_name="events")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["queue", "at"], name="routingevent_queue")]

    def __str__(self) -> str:
        return f"{self.item_id} {self.kind}"
