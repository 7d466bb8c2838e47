"""An agent's acknowledgement of the SOP version in force, with its quiz when it has one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from satupintu.audit import services as audit
from satupintu.knowledge.models import Acknowledgement, ArticleVersion, Status
from satupintu.knowledge.queries import applies_to, is_current

if TYPE_CHECKING:
    from satupintu.accounts.models import User


def score_quiz(quiz: Sequence[Mapping[str, Any]], answers: Mapping[int, Sequence[int]]) -> int:
    """Percentage of questions answered exactly right (the chosen options = the correct ones).

    ``answers`` maps a question index to the indexes of the options chosen.
    """
    if not quiz:
        return 100
    right = 0
    for q_index, question in enumerate(quiz):
        correct = {i for i, o in enumerate(question["options"]) if o.get("correct")}
        if set(answers.get(q_index, ())) == correct:
            right += 1
    return round(100 * right / len(quiz))


@transaction.atomic
def acknowledge(version: ArticleVersion, *, user: User,
                answers: Mapping[int, Sequence[int]] | None = None,
                request: HttpRequest | None = None) -> Acknowledgement:
    """Record "I have read and understood" for the version in force; the quiz must be passed."""
    if version.status != Status.PUBLISHED or version.is_scheduled:
        raise ValidationError(_("Only a published version in force can be acknowledged."))
    if not is_current(version):
        raise ValidationError(
            _("This version has been superseded; read and acknowledge the current one."))
    if not applies_to(version.article, user):
        raise ValidationError(_("This procedure does not ask you for an acknowledgement."))
    if Acknowledgement.objects.filter(version=version, user=user).exists():
        raise ValidationError(_("You have already acknowledged this version."))
    score = None
    if version.quiz:
        score = score_quiz(version.quiz, answers or {})
        if score < version.pass_mark:
            raise ValidationError(
                _("You scored %(score)s%%; the pass mark is %(mark)s%%. Read the procedure "
                  "again and retry.") % {"score": score, "mark": version.pass_mark})
    try:
        with transaction.atomic():
            ack = Acknowledgement.objects.create(version=version, user=user, score=score)
    except IntegrityError as exc:
        raise ValidationError(_("You have already acknowledged this version.")) from exc
    audit.record("knowledge.acknowledged", actor=user, obj=version, client=version.article.client,
                 request=request, data={"score": score})
    return ack
