"""The wallboard colours form: it checks the shape of the input; ``services.save_thresholds``
checks the rest (amber before red) and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from satupintu.wallboard.kpis import Limits
from satupintu.wallboard.models import Thresholds
from satupintu.wallboard.services import FIELDS, PERCENT_FIELDS, REQUIRED


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class ThresholdsForm(forms.Form):
    client = forms.TypedChoiceField(label=_("Client"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in FIELDS:
            field = Thresholds._meta.get_field(name)
            label = capfirst(field.verbose_name)
            if name in ("sl_amber_below", "sl_red_below"):
                self.fields[name] = forms.DecimalField(
                    label=label, required=False, min_value=0, max_value=100, decimal_places=1,
                    max_digits=4)
            else:
                self.fields[name] = forms.IntegerField(
                    label=label, required=name in REQUIRED, min_value=0,
                    max_value=100 if name in PERCENT_FIELDS else 86_400)

    def show_built_in(self, limits: Limits) -> None:
        """Write the value an empty field stands for into its placeholder and help text."""
        built_in = {
            "waiting_amber": limits.waiting.amber, "waiting_red": limits.waiting.red,
            "longest_wait_amber_s": limits.longest_wait.amber,
            "longest_wait_red_s": limits.longest_wait.red,
            "sl_amber_below": limits.sl.amber, "sl_red_below": limits.sl.red,
            "asa_amber_s": limits.asa.amber, "asa_red_s": limits.asa.red,
            "acw_amber_s": limits.acw.amber, "acw_red_s": limits.acw.red,
        }
        notes = {
            "longest_wait_red_s": _("Empty: the service level threshold."),
            "sl_red_below": _("Empty: the service level target."),
            "sl_amber_below": _("Empty: 5 points above red."),
            "acw_red_s": _("Empty: the longest after-contact work of the routing settings."),
        }
        for name, value in built_in.items():
            field = self.fields[name]
            field.widget.attrs["placeholder"] = _number(value)
            if name in notes:
                field.help_text = notes[name]
            elif name.endswith("_red") or name.endswith("_red_s"):
                field.help_text = _("Empty: no red.")
            else:
                field.help_text = _("Empty: 80 percent of red, or no amber without red.")
