"""SLA set-up (business calendars, policies per client and priority) and each case's clocks.

The maths lives in ``satupintu.engine.business_time`` and ``satupintu.engine.sla``; these
models only hold the settings and the latest evaluation (``CaseSla``) so queues can sort by
deadline and the breach job can find due cases with one indexed query.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client, Team
from satupintu.accounts.models.org import INDONESIAN_TIME_ZONES
from satupintu.cases.models import Case, Priority
from satupintu.engine import business_time as bt


def parse_clock(value: str, *, closing: bool = False) -> time:
    """``"08:00"`` → 08:00; ``"24:00"`` (only as a closing time) → end of day."""
    if closing and value == "24:00":
        return time.max
    try:
        hours, minutes = (int(part) for part in str(value).split(":"))
        return time(hours, minutes)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("“%(value)s” is not a time like 08:00.") % {"value": value},
                              code="bad_time") from exc


def parse_weekly(weekly: Any) -> tuple[tuple[bt.Span, ...], ...]:
    """Seven lists (Monday first) of ``["08:00", "17:00"]`` pairs, checked by the engine."""
    if not isinstance(weekly, list) or len(weekly) != 7:
        raise ValidationError(_("Weekly hours need seven days, Monday first."),
                              code="bad_weekly")
    days: list[tuple[bt.Span, ...]] = []
    for spans in weekly:
        if not isinstance(spans, list) or any(
                not isinstance(s, list | tuple) or len(s) != 2 for s in spans):
            raise ValidationError(_("Each day is a list of [opening, closing] pairs."),
                                  code="bad_weekly")
        days.append(tuple((parse_clock(a), parse_clock(b, closing=True)) for a, b in spans))
    try:
        return bt.BusinessCalendar(tz="UTC", weekly=tuple(days)).weekly
    except bt.CalendarError as exc:
        raise ValidationError(str(exc), code="bad_weekly") from exc


def weekly_hours(opens: str, closes: str, days: int = 5) -> list[list[list[str]]]:
    """The same hours on the first ``days`` weekdays, as stored in ``weekly_hours``."""
    return [[[opens, closes]] if i < days else [] for i in range(7)]


class BusinessCalendar(models.Model):
    """Open hours of a client (or shared by every client) in one of Indonesia's time zones."""

    name = models.CharField(_("name"), max_length=100)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="sla_calendars", verbose_name=_("client"),
                               help_text=_("Empty for a calendar shared by every client."))
    timezone = models.CharField(_("time zone"), max_length=40, choices=INDONESIAN_TIME_ZONES,
                                default="Asia/Jakarta")
    weekly_hours = models.JSONField(
        _("weekly hours"), default=list,
        help_text=_('Seven days, Monday first, each a list of ["08:00", "17:00"] pairs; '
                    '"24:00" closes at midnight.'))
    use_public_holidays = models.BooleanField(_("closed on Indonesian public holidays"),
                                              default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        parse_weekly(self.weekly_hours)
        if not any(self.weekly_hours):
            raise ValidationError(_("The calendar must be open on at least one day."))

    def to_engine(self, years: range | list[int], closures: list[Closure] | None = None
                  ) -> bt.BusinessCalendar:
        """The engine calendar for the given years (holidays and closures included)."""
        from satupintu.sla.calendars import holidays_for

        closed: set[date] = set(holidays_for(tuple(years))) if self.use_public_holidays else set()
        special: dict[date, tuple[bt.Span, ...]] = {}
        rows = closures if closures is not None else list(self.closures.all())
        for row in rows:
            if row.opens is not None and row.closes is not None:
                special[row.date] = ((row.opens, row.closes),)
            else:
                closed.add(row.date)
                special.pop(row.date, None)
        return bt.BusinessCalendar(tz=self.timezone, weekly=parse_weekly(self.weekly_hours),
                                   closed=frozenset(closed), special=special)


class Closure(models.Model):
    """An ad-hoc closed day (cuti bersama, an office move), or a day with special hours."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE,
                                 related_name="closures", verbose_name=_("calendar"))
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    opens = models.TimeField(_("opens"), null=True, blank=True,
                             help_text=_("Special hours: leave both empty to close all day."))
    closes = models.TimeField(_("closes"), null=True, blank=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"],
                                               name="closure_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}"

    def clean(self) -> None:
        if (self.opens is None) != (self.closes is None):
            raise ValidationError(_("Give both opening and closing time, or neither."))
        if self.opens is not None and self.closes is not None and not self.opens < self.closes:
            raise ValidationError(_("Opening must be before closing."))


class SlaPolicy(models.Model):
    """Targets for a client's cases of one priority, and what to do when one is breached."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sla_policies",
                               verbose_name=_("client"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    name = models.CharField(_("name"), max_length=100)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT,
                                 related_name="policies", verbose_name=_("calendar"))
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"))
    next_response_minutes = models.PositiveIntegerField(_("next response (minutes)"), null=True,
                                                        blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"))
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of target)"), default=80,
        help_text=_("Warn when this share of a target has passed."))
    notify_leader = models.BooleanField(_("notify the team leader on breach"), default=True)
    raise_priority = models.BooleanField(_("raise the priority one step on breach"),
                                         default=False)
    escalate_to_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+",
                                         verbose_name=_("reassign to this team on breach"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["client", "priority"]
        constraints = [models.UniqueConstraint(fields=["client", "priority"],
                                               name="slapolicy_client_priority")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not 1 <= self.warn_at_percent <= 99:
            raise ValidationError(_("Warn at a share between 1 and 99 percent."))
        if self.calendar_id and self.calendar.client_id not in (None, self.client_id):
            raise ValidationError(_("That calendar belongs to another client."))


class CaseSla(models.Model):
    """The latest evaluation of a case's clocks, kept up to date by ``sla.services``."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True,
                                related_name="sla")
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    first_response_due = models.DateTimeField(null=True, blank=True)
    first_response_state = models.CharField(max_length=10, blank=True, default="")
    next_response_due = models.DateTimeField(null=True, blank=True)
    next_response_state = models.CharField(max_length=10, blank=True, default="")
    resolution_due = models.DateTimeField(null=True, blank=True)
    resolution_state = models.CharField(max_length=10, blank=True, default="")
    # The earliest deadline of a clock still running (queues sort on it).
    next_due = models.DateTimeField(null=True, blank=True, db_index=True)
    # The earliest warning time of a clock still running (amber in the queues after it).
    next_warn_at = models.DateTimeField(null=True, blank=True)
    # When the breach job must look again (next warning or deadline not yet recorded).
    attention_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warned_keys = models.JSONField(default=list, blank=True)
    breached_keys = models.JSONField(default=list, blank=True)
    warned = models.BooleanField(default=False)
    breached = models.BooleanField(default=False)
    escalated_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("case SLA")
        verbose_name_plural = _("case SLAs")

    def __str__(self) -> str:
        return f"{self.case_id} SLA"
