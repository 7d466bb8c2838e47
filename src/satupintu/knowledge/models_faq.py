"""The customer FAQ assistant: per-client settings and one row per question asked.

A question row keeps the client, language, the question (cut short), the top article shown,
its score, whether the customer said it helped, and whether they asked for a person. That is
what the deflection rate (helped ÷ asked) is measured from.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client

DEFAULT_THRESHOLD = 1.0
QUESTION_MAX = 300


class FaqSettings(models.Model):
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="faq_settings")
    threshold = models.FloatField(
        _("confidence threshold"), default=DEFAULT_THRESHOLD,
        help_text=_("Search scores below this are not shown as an answer; the customer is "
                    "offered a person instead."))
    max_answers = models.PositiveSmallIntegerField(_("articles shown"), default=3)

    class Meta:
        verbose_name = _("FAQ assistant settings")
        verbose_name_plural = _("FAQ assistant settings")

    def __str__(self) -> str:
        return str(self.client)


class Helped(models.TextChoices):
    UNANSWERED = "unanswered", _("No answer yet")
    YES = "yes", _("Helped")
    NO = "no", _("Did not help")


class FaqQuestion(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="faq_questions")
    language = models.CharField(_("language"), max_length=5)
    question = models.CharField(_("question"), max_length=QUESTION_MAX)
    top_article = models.ForeignKey("knowledge.Article", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    score = models.FloatField(_("score"), default=0.0)
    answered = models.BooleanField(_("answer shown"), default=False)
    helped = models.CharField(_("helped"), max_length=12, choices=Helped.choices,
                              default=Helped.UNANSWERED)
    handed_off = models.BooleanField(_("handed off"), default=False)
    case_reference = models.CharField(_("case"), max_length=30, blank=True)
    asked_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("FAQ question")
        verbose_name_plural = _("FAQ questions")
        indexes = [models.Index(fields=["client", "asked_at"])]

    def __str__(self) -> str:
        return f"FAQ question {self.pk}"
