"""Forms of the routing set-up pages; they check input, the services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client, Skill, Team
from satupintu.cases.models import Channel
from satupintu.routing.models import RoutingSettings

LANGUAGE_CHOICES = [("", _("Any language")), ("id", _("Indonesian")), ("en", _("English")),
                    ("jv", _("Javanese"))]
SL_FORMULAS = [
    ("answered", _("Answered within the threshold / answered")),
    ("offered", _("Answered within the threshold / offered")),
    ("asterisk_sl2", _("(Answered + abandoned within the threshold) / (answered + abandoned)")),
]
# The model's original default names the "offered" formula of satupintu.engine.kpi.
LEGACY_FORMULAS = {"answered_over_offered": "offered"}


class QueueForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40,
                           help_text=_("The queue's key in the routing rules."))
    name_id = forms.CharField(label=_("Name (Indonesian)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(),
                                  required=False)
    skills = forms.ModelMultipleChoiceField(label=_("Required skills"),
                                            queryset=Skill.objects.none(), required=False)
    min_proficiency = forms.IntegerField(label=_("Minimum proficiency"), min_value=1,
                                         max_value=5, initial=1)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    is_default = forms.BooleanField(label=_("Default for its channel"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=999, initial=0)

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(clients=client).order_by("name")
        self.fields["skills"].queryset = Skill.objects.filter(
            Q(client=client) | Q(client__isnull=True)).order_by("kind", "code")


class RulesForm(forms.Form):
    text = forms.CharField(label=_("Rules (YAML)"), widget=forms.Textarea(
        attrs={"rows": 24, "cols": 90, "spellcheck": "false"}), max_length=100_000,
        strip=False)
    comment = forms.CharField(label=_("What changed"), max_length=200, required=False)


class PreviewForm(forms.Form):
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=None)  # type: ignore[arg-type]
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    vip = forms.BooleanField(label=_("VIP"), required=False)
    skills = forms.ModelMultipleChoiceField(label=_("Skills"), queryset=Skill.objects.none(),
                                            required=False)
    proficiency = forms.IntegerField(label=_("Minimum proficiency"), min_value=1, max_value=5,
                                     required=False)

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = client.queues.filter(is_active=True)  # type: ignore
        language = get_language() or "id"
        self.fields["queue"].label_from_instance = (  # type: ignore[attr-defined]
            lambda q: f"{q.label(language)} ({q.code})")
        self.fields["skills"].queryset = Skill.objects.filter(
            Q(client=client) | Q(client__isnull=True)).order_by("kind", "code")


class SettingsForm(forms.Form):
    acw_max_seconds = forms.IntegerField(label=_("Longest after-contact work (seconds)"),
                                         min_value=0, max_value=3600)
    after_acw = forms.ChoiceField(label=_("After the longest after-contact work"),
                                  choices=RoutingSettings.AfterWrapUp.choices)
    heartbeat_timeout_seconds = forms.IntegerField(
        label=_("Presence lost after (seconds without heartbeat)"), min_value=30,
        max_value=3600)
    sl_threshold_seconds = forms.IntegerField(label=_("Service level threshold (seconds)"),
                                              min_value=1, max_value=86_400)
    sl_target_percent = forms.IntegerField(label=_("Service level target (%)"), min_value=1,
                                           max_value=100)
    sl_formula = forms.ChoiceField(label=_("Service level formula"), choices=SL_FORMULAS)

    @staticmethod
    def initial_from(obj: RoutingSettings) -> dict[str, Any]:
        return {"acw_max_seconds": obj.acw_max_seconds, "after_acw": obj.after_acw,
                "heartbeat_timeout_seconds": obj.heartbeat_timeout_seconds,
                "sl_threshold_seconds": obj.sl_threshold_seconds,
                "sl_target_percent": obj.sl_target_percent,
                "sl_formula": LEGACY_FORMULAS.get(obj.sl_formula, obj.sl_formula)}


class ReasonCodeForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name_id = forms.CharField(label=_("Name (Indonesian)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)
    paid = forms.BooleanField(label=_("Paid"), required=False)
    adherent_when_scheduled = forms.BooleanField(label=_("Adherent when scheduled"),
                                                 required=False)
    max_minutes = forms.IntegerField(label=_("Longest expected (minutes)"), min_value=1,
                                     max_value=600, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=999, initial=0)


class AgentStateForm(forms.Form):
    """The presence select: ``ready``, ``logged_out`` or ``not_ready:<reason code>``."""

    state = forms.CharField(max_length=60)
    connection = forms.CharField(max_length=64, required=False)
