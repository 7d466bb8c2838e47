"""One-time codes that let a customer open their case's status page without the link.

Only a keyed hash of the code is kept; a code lives ten minutes and takes five tries. The
challenge is found by a random public id that the customer's browser carries in the form,
never by the reference, so a visitor learns nothing about cases that they cannot prove.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.cases.models import Case


class StatusCode(models.Model):
    public_id = models.CharField(max_length=64, unique=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    identity_kind = models.CharField(_("sent by"), max_length=20)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("status code")
        verbose_name_plural = _("status codes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"status code #{self.pk} for case {self.case_id}"
