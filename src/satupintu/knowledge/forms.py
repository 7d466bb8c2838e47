"""Editor forms. Steps and quizzes are typed as short plain-text notations, parsed here.

Steps, one a line; a decision lists its branches after ``|``::

    Verifikasi identitas nasabah
    Kartu masih dipegang nasabah? | Ya -> 3 | Tidak -> 4

Quiz: ``?`` starts a question, ``*`` marks a correct option, ``-`` a wrong one.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from satupintu.knowledge.models import LANGUAGES, Audience, Kind


def parse_steps(text: str) -> list[dict[str, Any]]:
    steps = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        text_part, *branch_parts = [p.strip() for p in line.split("|")]
        branches = []
        for part in branch_parts:
            label, sep, goto = part.rpartition("->")
            if not sep or not goto.strip().isdigit():
                raise ValidationError(
                    gettext("Line %(n)s: write a branch as “label -> step number”.")
                    % {"n": line_no})
            branches.append({"label": label.strip(), "goto": int(goto.strip())})
        steps.append({"text": text_part, "decision": bool(branches), "branches": branches})
    return steps


def steps_to_text(steps: list[dict[str, Any]]) -> str:
    lines = []
    for step in steps or []:
        parts = [step["text"], *(f"{b['label']} -> {b['goto']}" for b in step.get("branches", []))]
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def parse_quiz(text: str) -> list[dict[str, Any]]:
    quiz: list[dict[str, Any]] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        mark, rest = line[0], line[1:].strip()
        if mark == "?":
            quiz.append({"question": rest, "options": []})
        elif mark in "*-" and quiz:
            quiz[-1]["options"].append({"text": rest, "correct": mark == "*"})
        else:
            raise ValidationError(
                gettext("Line %(n)s: start a question with “?”, a correct option with “*” "
                        "and a wrong option with “-”.") % {"n": line_no})
    return quiz


def quiz_to_text(quiz: list[dict[str, Any]]) -> str:
    lines = []
    for item in quiz or []:
        lines.append(f"? {item['question']}")
        lines.extend(f"{'*' if o['correct'] else '-'} {o['text']}" for o in item["options"])
    return "\n".join(lines)


class VersionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    body = forms.CharField(label=_("Text"), required=False,
                           widget=forms.Textarea(attrs={"rows": 10}))
    steps = forms.CharField(
        label=_("Steps"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One step a line. A decision: “Question? | Yes -> 3 | No -> 5”."))
    quiz = forms.CharField(
        label=_("Quiz"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("“? question”, then options: “* correct” or “- wrong”."))
    pass_mark = forms.IntegerField(label=_("Pass mark (%)"), min_value=1, max_value=100,
                                   initial=100)

    def clean_steps(self) -> list[dict[str, Any]]:
        return parse_steps(self.cleaned_data.get("steps") or "")

    def clean_quiz(self) -> list[dict[str, Any]]:
        return parse_quiz(self.cleaned_data.get("quiz") or "")

    @classmethod
    def initial_from(cls, version: Any) -> dict[str, Any]:
        return {"title": version.title, "summary": version.summary, "body": version.body,
                "steps": steps_to_text(version.steps), "quiz": quiz_to_text(version.quiz),
                "pass_mark": version.pass_mark}


class ArticleForm(VersionForm):
    client = forms.ChoiceField(label=_("Client"))
    slug = forms.SlugField(label=_("Slug"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)
    field_order = ["client", "slug", "kind", "audience", "language"]

    def __init__(self, *args: Any, clients: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = clients


class PublishForm(forms.Form):
    effective_from = forms.DateTimeField(
        label=_("Effective from"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty to publish now."))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
