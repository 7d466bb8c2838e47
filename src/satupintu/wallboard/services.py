"""The wallboard's writes: a client's colour thresholds, and who exported a report."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client
from satupintu.audit import services as audit
from satupintu.cases.live import publish_on_commit
from satupintu.routing.models import RoutingSettings
from satupintu.routing.services.live import wallboard_group
from satupintu.wallboard.kpis import Band, Limits
from satupintu.wallboard.models import Thresholds

if TYPE_CHECKING:
    from satupintu.accounts.models import User

# Higher is worse: (amber field, red field, the cell's band in kpis.Limits).
HIGHER_IS_WORSE = (
    ("waiting_amber", "waiting_red", "waiting"),
    ("longest_wait_amber_s", "longest_wait_red_s", "longest_wait"),
    ("asa_amber_s", "asa_red_s", "asa"),
    ("acw_amber_s", "acw_red_s", "acw"),
)
PERCENT_FIELDS = ("sl_amber_below", "sl_red_below", "break_amber_percent")
FIELDS = ("waiting_amber", "waiting_red", "longest_wait_amber_s", "longest_wait_red_s",
          "sl_amber_below", "sl_red_below", "asa_amber_s", "asa_red_s", "acw_amber_s",
          "acw_red_s", "break_amber_percent", "break_red_grace_s")
# Fields that cannot be empty (the others fall back to the built-in rule when empty).
REQUIRED = ("break_amber_percent", "break_red_grace_s")


def record_export(request: HttpRequest, client: Client, day: date) -> None:
    """Exports leave the platform: the audit trail says who took which day's figures."""
    audit.record("wallboard.report_exported", actor=request.user,  # type: ignore[arg-type]
                 obj=client, client=client, request=request, data={"day": day.isoformat()})


def _label(name: str) -> str:
    return str(Thresholds._meta.get_field(name).verbose_name)


def _number(value: float) -> str:
    return f"{value:g}"


def check_thresholds(row: Thresholds, routing: RoutingSettings) -> list[str]:
    """Why ``row`` cannot be saved (empty: it can), each message naming its field. Amber is
    compared with the red that will apply, the built-in one where red is left empty."""
    errors: list[str] = []
    bad: set[str] = set()
    for name in FIELDS:
        value = getattr(row, name)
        if value is None:
            if name in REQUIRED:
                errors.append(_("%(field)s: enter a value.") % {"field": _label(name)})
                bad.add(name)
            continue
        if not isinstance(value, int | float | Decimal) or isinstance(value, bool) \
                or not math.isfinite(value):
            errors.append(_("%(field)s: enter a number.") % {"field": _label(name)})
            bad.add(name)
        elif value < 0:
            errors.append(_("%(field)s: enter a number of 0 or more.") % {"field": _label(name)})
            bad.add(name)
        elif name in PERCENT_FIELDS and value > 100:
            errors.append(_("%(field)s: enter a percentage from 0 to 100.")
                          % {"field": _label(name)})
            bad.add(name)
    if bad:
        return [capfirst(m) for m in errors]
    limits = Limits.of(row, routing)
    for amber_name, red_name, cell in HIGHER_IS_WORSE:
        band: Band = getattr(limits, cell)
        amber = getattr(row, amber_name)
        if amber is None or band.red is None or amber <= band.red:
            continue
        values = {"amber": _label(amber_name), "a": _number(float(amber)),
                  "red": _label(red_name), "r": _number(band.red)}
        if getattr(row, red_name) is None:
            errors.append(_("%(amber)s (%(a)s) is above the red limit that applies while "
                            "%(red)s is empty (%(r)s): amber must come before red.") % values)
        else:
            errors.append(_("%(amber)s (%(a)s) is above %(red)s (%(r)s): amber must come "
                            "before red.") % values)
    if row.sl_amber_below is not None and limits.sl.red is not None \
            and float(row.sl_amber_below) < limits.sl.red:
        values = {"amber": _label("sl_amber_below"), "a": _number(float(row.sl_amber_below)),
                  "red": _label("sl_red_below"), "r": _number(limits.sl.red)}
        if row.sl_red_below is None:
            errors.append(_("%(amber)s (%(a)s) is below the service level target, which is "
                            "red while %(red)s is empty (%(r)s): amber must come before red.")
                          % values)
        else:
            errors.append(_("%(amber)s (%(a)s) is below %(red)s (%(r)s): amber must come "
                            "before red.") % values)
    return [capfirst(m) for m in errors]


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def save_thresholds(client: Client, values: dict[str, Any], *, by: User,
                    request: HttpRequest | None = None) -> Thresholds:
    """Set ``client``'s wallboard colours (``values``: any of ``FIELDS``; ``None`` = the
    built-in rule). Nothing is saved unless every value is valid; a change is audited."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError(_("Unknown threshold: %(names)s.")
                              % {"names": ", ".join(sorted(unknown))})
    row = Thresholds.objects.select_for_update().filter(client=client).first()
    created = row is None
    if row is None:
        row = Thresholds(client=client)
    before = {name: getattr(row, name) for name in FIELDS}
    for name, value in values.items():
        setattr(row, name, value)
    routing = RoutingSettings.objects.filter(client=client).first() or RoutingSettings()
    errors = check_thresholds(row, routing)
    if errors:
        raise ValidationError(errors)
    row.updated_by = by
    row.full_clean()
    row.save()
    row.refresh_from_db()
    changed = {name: [_plain(before[name]), _plain(getattr(row, name))] for name in FIELDS
               if before[name] != getattr(row, name)}
    if changed or created:
        audit.record("wallboard.thresholds_changed", actor=by, obj=row, client=client,
                     request=request, data=changed)
        # open boards recolour at once rather than at their next 5-second tick
        publish_on_commit([wallboard_group(client.pk)],
                          {"kind": "thresholds", "client": client.pk})
    return row
