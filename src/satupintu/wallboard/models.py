"""A client's wallboard colours: when a cell turns amber and when red.

Managers set these per client; an empty value keeps the built-in rule, so a client without a
row (or with an untouched one) sees exactly what it saw before the setting existed:

* longest wait: red above the service-level threshold T, amber from 80 % of the red limit;
* service level: red below the target, amber below the target + 5 points;
* after-contact work: red above the routing setting ``acw_max_seconds``, amber from 80 %;
* a break (any not-ready reason with a longest duration): amber from 80 % of it, red past it;
* waiting contacts and ASA: no colour.

The rules that read these values are in ``satupintu.wallboard.kpis`` (``Limits.of``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client

_PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


def _seconds(label: Any) -> Any:
    """An optional number of seconds (empty: the built-in rule)."""
    return models.PositiveIntegerField(label, null=True, blank=True)


class Thresholds(models.Model):
    """Amber "from" and red "above" per cell (for the service level, where lower is worse:
    amber and red "below"); ``None`` keeps the built-in rule of the module docstring."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE,
                                  related_name="wallboard_thresholds")
    waiting_amber = models.PositiveIntegerField(_("waiting contacts: amber from"), null=True,
                                                blank=True)
    waiting_red = models.PositiveIntegerField(_("waiting contacts: red above"), null=True,
                                              blank=True)
    longest_wait_amber_s = _seconds(_("longest wait: amber from (seconds)"))
    longest_wait_red_s = _seconds(_("longest wait: red above (seconds)"))
    sl_amber_below = models.DecimalField(_("service level: amber below (%)"), max_digits=4,
                                         decimal_places=1, null=True, blank=True,
                                         validators=_PERCENT)
    sl_red_below = models.DecimalField(_("service level: red below (%)"), max_digits=4,
                                       decimal_places=1, null=True, blank=True,
                                       validators=_PERCENT)
    asa_amber_s = _seconds(_("ASA: amber from (seconds)"))
    asa_red_s = _seconds(_("ASA: red above (seconds)"))
    acw_amber_s = _seconds(_("after-contact work: amber from (seconds)"))
    acw_red_s = _seconds(_("after-contact work: red above (seconds)"))
    break_amber_percent = models.PositiveSmallIntegerField(
        _("break: amber from (percent of the reason's longest break)"), default=80,
        validators=_PERCENT)
    break_red_grace_s = models.PositiveIntegerField(
        _("break: red this many seconds past the longest break"), default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("wallboard thresholds")
        verbose_name_plural = _("wallboard thresholds")

    def __str__(self) -> str:
        return f"{self.client} wallboard thresholds"
