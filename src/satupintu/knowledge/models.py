"""Articles with per-language versions, their review trail, acknowledgements and synonyms.

An ``Article`` is the language-independent identity (slug, kind, client); each language has
its own line of ``ArticleVersion`` rows, each with its own status. A published version never
changes again: ``save`` and ``delete`` refuse. Which version is *current* is a query (the
latest published one whose ``effective_from`` has passed), so scheduled versions go live on
time without a job.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client, Team
from satupintu.accounts.roles import Role

LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]


class Kind(models.TextChoices):
    SOP = "sop", _("Standard operating procedure")
    WORK_INSTRUCTION = "work_instruction", _("Work instruction")
    POLICY = "policy", _("Policy")
    FAQ = "faq", _("FAQ")
    PRODUCT = "product", _("Product information")


class Audience(models.TextChoices):
    INTERNAL = "internal", _("Internal (staff only)")
    PUBLIC = "public", _("Public (may be shared with customers)")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PUBLISHED = "published", _("Published")


OPEN_STATUSES = (Status.DRAFT, Status.IN_REVIEW, Status.APPROVED, Status.REJECTED)


class Article(models.Model):
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="articles", verbose_name=_("client"),
                               help_text=_("Empty for articles shared by every client."))
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SOP)
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices,
                                default=Audience.INTERNAL)
    teams = models.ManyToManyField(Team, blank=True, related_name="articles",
                                   verbose_name=_("teams"),
                                   help_text=_("Narrows who must acknowledge an SOP; empty "
                                               "means every agent of the client."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    retired_reason = models.TextField(_("reason for retiring"), blank=True)
    retired_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class ArticleVersion(models.Model):
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="versions")
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGES)
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    # SOP steps: [{"text": str, "decision": bool, "branches": [{"label": str, "goto": int}]}]
    steps = models.JSONField(_("steps"), default=list, blank=True)
    # Quiz: [{"question": str, "options": [{"text": str, "correct": bool}]}]
    quiz = models.JSONField(_("quiz"), default=list, blank=True)
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (%)"), default=100)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    effective_from = models.DateTimeField(_("effective from"), null=True, blank=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "language", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "language", "number"],
                                    name="knowledge_version_unique_number"),
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(effective_from__isnull=False),
                name="knowledge_published_has_effective_from"),
        ]
        indexes = [models.Index(fields=["status", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.article.slug} {self.language} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse any change to a version that is already published in the database."""
        if self.pk is not None:
            stored = (ArticleVersion.objects.filter(pk=self.pk)
                      .values_list("status", flat=True).first())
            if stored == Status.PUBLISHED:
                raise ValidationError(gettext(
                    "A published version cannot be changed; start a new draft instead."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.status == Status.PUBLISHED:
            raise ValidationError(gettext("A published version cannot be deleted."))
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    @property
    def is_scheduled(self) -> bool:
        return (self.status == Status.PUBLISHED and self.effective_from is not None
                and self.effective_from > timezone.now())

    @property
    def is_editable(self) -> bool:
        return self.status in (Status.DRAFT, Status.REJECTED)

    def as_text(self) -> str:
        """Everything an agent reads, as plain lines: what diffs and search work on."""
        lines = [self.title]
        if self.summary:
            lines.append(self.summary)
        lines.append("")
        lines.extend(self.body.splitlines())
        for i, step in enumerate(self.steps or [], start=1):
            lines.append(f"{i}. {step.get('text', '')}")
            for branch in step.get("branches") or []:
                lines.append(f"   → {branch.get('label', '')}: {branch.get('goto', '')}")
        for question in self.quiz or []:
            lines.append(f"? {question.get('question', '')}")
            for option in question.get("options") or []:
                mark = "*" if option.get("correct") else "-"
                lines.append(f"  {mark} {option.get('text', '')}")
        return "\n".join(lines)

    def searchable_text(self) -> str:
        """Summary, body and steps (not the quiz: its wrong options would mislead search)."""
        parts = [self.summary, self.body]
        parts.extend(str(step.get("text", "")) for step in self.steps or [])
        return "\n".join(p for p in parts if p)


class Acknowledgement(models.Model):
    """An agent's "I have read and understood" for one published SOP version."""

    version = models.ForeignKey(ArticleVersion, on_delete=models.PROTECT,
                                related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="acknowledgements")
    acknowledged_at = models.DateTimeField(default=timezone.now)
    score = models.PositiveSmallIntegerField(_("quiz score (%)"), null=True, blank=True)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [models.UniqueConstraint(fields=["version", "user"],
                                               name="knowledge_ack_once")]

    def __str__(self) -> str:
        return f"{self.user} ✓ {self.version}"


class KnowledgeSettings(models.Model):
    """Per client: which roles may approve drafts (on top of the approve permission)."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE,
                                  related_name="knowledge_settings")
    approver_roles = models.JSONField(
        _("approver roles"), default=list, blank=True,
        help_text=_("Roles allowed to approve; empty means every role with the approve "
                    "permission."))

    class Meta:
        verbose_name = _("knowledge settings")
        verbose_name_plural = _("knowledge settings")

    def __str__(self) -> str:
        return str(self.client)

    def allows(self, role: str) -> bool:
        return not self.approver_roles or role in self.approver_roles or role == Role.ADMIN


class Synonym(models.Model):
    """One entry of a client's slang/synonym dictionary (added to the built-in list)."""

    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="synonyms",
                               help_text=_("Empty for entries used by every client."))
    term = models.CharField(_("term"), max_length=80)
    means = models.CharField(_("means"), max_length=120)

    class Meta:
        verbose_name = _("synonym")
        verbose_name_plural = _("synonyms")
        constraints = [models.UniqueConstraint(fields=["client", "term"],
                                               name="knowledge_synonym_unique")]

    def __str__(self) -> str:
        return f"{self.term} → {self.means}"


from satupintu.knowledge.models_deviation import (  # noqa: E402
    Deviation,
    DeviationReason,
    DeviationSettings,
    DeviationStatus,
)
from satupintu.knowledge.models_faq import FaqQuestion, FaqSettings, Helped  # noqa: E402

__all__ = [
    "LANGUAGES",
    "OPEN_STATUSES",
    "Acknowledgement",
    "Article",
    "ArticleVersion",
    "Audience",
    "Deviation",
    "DeviationReason",
    "DeviationSettings",
    "DeviationStatus",
    "FaqQuestion",
    "FaqSettings",
    "Helped",
    "Kind",
    "KnowledgeSettings",
    "Status",
    "Synonym",
]
from satupintu.knowledge.models_usage import SopUsage  # noqa: E402

__all__ += ["SopUsage"]
