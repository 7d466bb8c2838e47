"""Deviations: an agent's improvisation outside an SOP step, asked (or justified after the
fact), decided by a supervisor, documented on the case and reviewed into the next revision.

A deviation points at the exact published version and step it departs from. Its customer
outcome is not stored: it is read from the case's status when shown.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client


class DeviationReason(models.TextChoices):
    NOT_COVERED = "not_covered", _("The customer's need is not covered by the SOP")
    UNCLEAR = "unclear", _("The SOP is unclear")
    HARMS = "harms", _("Following the SOP would harm the customer")


class DeviationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    ESCALATED = "escalated", _("Escalated")
    APPROVED = "approved", _("Approved")
    APPROVED_WITH_CHANGES = "approved_changes", _("Approved with changes")
    REJECTED = "rejected", _("Rejected")


UNDECIDED = (DeviationStatus.PENDING, DeviationStatus.ESCALATED)
APPROVED_STATUSES = (DeviationStatus.APPROVED, DeviationStatus.APPROVED_WITH_CHANGES)


class Deviation(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="deviations",
                               verbose_name=_("client"))
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="deviations",
                             verbose_name=_("case"))
    article = models.ForeignKey("knowledge.Article", on_delete=models.PROTECT,
                                related_name="deviations", verbose_name=_("SOP"))
    version = models.ForeignKey("knowledge.ArticleVersion", on_delete=models.PROTECT,
                                related_name="deviations", verbose_name=_("SOP version"))
    step = models.PositiveSmallIntegerField(_("step"))
    proposal = models.TextField(_("what I do instead"))
    reason = models.CharField(_("why"), max_length=20, choices=DeviationReason.choices)
    justification = models.TextField(_("explanation"), blank=True)
    post_hoc = models.BooleanField(_("already done (urgent)"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=DeviationStatus.choices,
                              default=DeviationStatus.PENDING, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="deviations")
    requested_at = models.DateTimeField(_("requested"))
    due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    changes = models.TextField(_("changes asked for"), blank=True)
    revision = models.ForeignKey("knowledge.ArticleVersion", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="linked_deviations",
                                 verbose_name=_("revision"))
    incorporated_at = models.DateTimeField(_("incorporated"), null=True, blank=True)

    class Meta:
        verbose_name = _("deviation")
        verbose_name_plural = _("deviations")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="deviation_due"),
                   models.Index(fields=["article", "step"], name="deviation_step")]

    def __str__(self) -> str:
        return f"{self.article} #{self.step} ({self.status})"

    @property
    def is_decided(self) -> bool:
        return self.status not in UNDECIDED

    @property
    def is_approved(self) -> bool:
        return self.status in APPROVED_STATUSES

    @property
    def step_text(self) -> str:
        steps = self.version.steps or []
        return str(steps[self.step - 1].get("text", "")) if 0 < self.step <= len(steps) else ""

    @property
    def customer_outcome(self) -> str:
        """Read from the case now: resolved (or closed) or still open."""
        from satupintu.cases.models import Status as CaseStatus

        if self.case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            return str(_("Resolved"))
        return str(_("Not resolved yet"))


class DeviationSettings(models.Model):
    """Per client: how long the on-duty supervisors have before a request escalates."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE,
                                  related_name="deviation_settings")
    response_minutes = models.PositiveSmallIntegerField(
        _("minutes to answer a deviation"), default=3,
        help_text=_("After this time an unanswered request escalates to the managers."))

    class Meta:
        verbose_name = _("deviation settings")
        verbose_name_plural = _("deviation settings")

    def __str__(self) -> str:
        return str(self.client)
