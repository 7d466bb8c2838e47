"""Cases: one customer need, one reference number, from first contact to closure.

The status lifecycle is a fixed set of categories with the allowed moves in one table
(``TRANSITIONS``); each client may name its own statuses (``ClientStatus``) on top of them.
The timeline (``CaseEvent``) is append-only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client, Team
from satupintu.customers.models import Customer


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Pending customer")
    PENDING_INTERNAL = "pending_internal", _("Pending internal")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


_WORKING = {Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL}
# The one table of allowed moves. Closed is final: a later message opens a follow-up case.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(_WORKING | {Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL, Status.RESOLVED}),
    Status.PENDING_CUSTOMER: frozenset({Status.OPEN, Status.PENDING_INTERNAL, Status.RESOLVED}),
    Status.PENDING_INTERNAL: frozenset({Status.OPEN, Status.PENDING_CUSTOMER, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}
ACTIVE_STATUSES = frozenset({Status.NEW, *_WORKING})


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    CHAT = "chat", _("Chat")
    WEB = "web", _("Web form")


class ClientCaseSettings(models.Model):
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="case_settings")
    reopen_window_days = models.PositiveSmallIntegerField(
        _("reopen window (days)"), default=7,
        help_text=_("A customer reply within this many days of resolution reopens the case; "
                    "a later one opens a follow-up case."))

    class Meta:
        verbose_name = _("case settings")
        verbose_name_plural = _("case settings")

    def __str__(self) -> str:
        return f"{self.client} case settings"


class ClientStatus(models.Model):
    """A client's own name for a status, mapped onto one of the fixed categories."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="case_statuses")
    code = models.SlugField(_("code"), max_length=40)
    name_id = models.CharField(_("name (Indonesian)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Status.choices)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("client status")
        verbose_name_plural = _("client statuses")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["client", "code"],
                                               name="clientstatus_code_unique")]

    def __str__(self) -> str:
        return self.label()

    def label(self, language: str = "id") -> str:
        return self.name_en if language == "en" else self.name_id


class ContactReason(models.Model):
    """Why the customer contacted us, as a tree per client (Billing › Double charge)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contact_reasons")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("parent"))
    name_id = models.CharField(_("name (Indonesian)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contact reason")
        verbose_name_plural = _("contact reasons")
        ordering = ["name_id"]

    def __str__(self) -> str:
        return self.path()

    def label(self, language: str = "id") -> str:
        return self.name_en if language == "en" else self.name_id

    def path(self, language: str = "id") -> str:
        names, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            names.append(node.label(language))
            node = node.parent
        return " › ".join(reversed(names))


class Tag(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="case_tags")
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="tag_unique")]

    def __str__(self) -> str:
        return self.name


class CaseCounter(models.Model):
    """One row per year; locked while a reference is taken, so numbers never repeat or skip
    because of concurrent writers (a rolled-back transaction gives its number back)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Case(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases",
                               verbose_name=_("client"))
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cases",
                                 verbose_name=_("customer"))
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.NEW, db_index=True)
    client_status = models.ForeignKey(ClientStatus, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+",
                                      verbose_name=_("client status"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices,
                                default=Priority.NORMAL)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices,
                               default=Channel.EMAIL)
    reason = models.ForeignKey(ContactReason, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="cases", verbose_name=_("contact reason"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="cases", verbose_name=_("team"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_cases",
                                 verbose_name=_("assignee"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases", verbose_name=_("tags"))
    version = models.PositiveIntegerField(default=1)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "status", "-created_at"], name="case_queue"),
            models.Index(fields=["assignee", "status"], name="case_assignee"),
            models.Index(fields=["customer", "-created_at"], name="case_customer"),
            # The queue pages count the active backlog by client/team/assignee; a partial
            # index makes that count index-only (bench/onedoor: team queue p95 156 → 51 ms).
            models.Index(fields=["client", "team", "assignee"], name="case_active_scope",
                         condition=models.Q(status__in=["new", "open", "pending_customer",
                                                        "pending_internal"])),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def status_label(self, language: str = "id") -> str:
        if self.client_status_id is not None:
            return self.client_status.label(language)  # type: ignore[union-attr]
        return str(self.get_status_display())  # type: ignore[attr-defined]


class CaseLink(models.Model):
    class Kind(models.TextChoices):
        RELATED = "related", _("Related")
        PARENT = "parent", _("Parent of")

    from_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_out")
    to_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RELATED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["from_case", "to_case"],
                                               name="caselink_unique")]

    def __str__(self) -> str:
        return f"{self.from_case_id} {self.kind} {self.to_case_id}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The case timeline is append-only")

    def delete(self) -> Any:
        raise TypeError("The case timeline is append-only")


class CaseEvent(models.Model):
    """One entry of a case's timeline. Written once, never changed."""

    class Kind(models.TextChoices):
        INBOUND = "inbound", _("Message from customer")
        OUTBOUND = "outbound", _("Reply to customer")
        CALL = "call", _("Call")
        NOTE = "note", _("Internal note")
        STATUS = "status", _("Status change")
        ASSIGNMENT = "assignment", _("Assignment change")
        UPDATE = "update", _("Details changed")
        SLA = "sla", _("SLA event")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="caseevent_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("The case timeline is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("The case timeline is append-only")

    @property
    def internal(self) -> bool:
        """Internal notes are never shown to customers (nor to client viewers)."""
        return self.kind == self.Kind.NOTE


class CannedResponse(models.Model):
    """A reusable reply, in both languages, with ``{customer_name}`` and ``{case_reference}``."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="canned_responses")
    title = models.CharField(_("title"), max_length=100)
    body_id = models.TextField(_("text (Indonesian)"))
    body_en = models.TextField(_("text (English)"), blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Attachment(models.Model):
    """A file on a case (optionally on one timeline entry). The bytes live in the storage
    backend under a random key, never in the database and never under the user's file name."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="attachments")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=200, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def internal(self) -> bool:
        return self.event_id is not None and self.event.kind == CaseEvent.Kind.NOTE  # type: ignore[union-attr]


class SavedView(models.Model):
    """A user's named filter set of "My cases" or the team queue."""

    class ListName(models.TextChoices):
        MINE = "mine", _("My cases")
        QUEUE = "queue", _("Team queue")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="saved_case_views")
    list_name = models.CharField(max_length=10, choices=ListName.choices)
    name = models.CharField(_("name"), max_length=80)
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "list_name", "name"],
                                               name="savedview_unique")]

    def __str__(self) -> str:
        return self.name
