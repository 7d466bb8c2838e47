"""Which SOP version an agent followed on a case: the other half of the deviation record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SopUsage(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="sop_usages")
    version = models.ForeignKey("knowledge.ArticleVersion", on_delete=models.PROTECT,
                                related_name="usages")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                           related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("SOP followed")
        verbose_name_plural = _("SOPs followed")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "version"],
                                               name="sopusage_once_per_case")]

    def __str__(self) -> str:
        return f"{self.case_id} followed {self.version_id}"
