"""Per-client knowledge settings: the slang/synonym dictionary and who may approve drafts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client
from satupintu.accounts.permissions import require_perm, user_may_see_client
from satupintu.accounts.roles import ROLE_PERMS, Perm, Role
from satupintu.audit import services as audit
from satupintu.engine.text_search import tokenize
from satupintu.knowledge.models import KnowledgeSettings, Synonym

if TYPE_CHECKING:
    from satupintu.accounts.models import User


def _require_client(user: User, client: Client) -> None:
    if not user_may_see_client(user, client.pk):
        raise PermissionDenied(_("Your role does not allow this."))


@transaction.atomic
def set_synonym(client: Client, term: str, means: str, *, by: User,
                request: HttpRequest | None = None) -> Synonym:
    """Add or change one entry of the client's dictionary (``term`` is read as ``means``)."""
    require_perm(by, Perm.MANAGE_KNOWLEDGE)
    _require_client(by, client)
    term_n, means_n = " ".join(tokenize(term)), " ".join(tokenize(means))
    if not term_n or not means_n:
        raise ValidationError(_("Give both the word and what it means."))
    if term_n == means_n:
        raise ValidationError(_("A word cannot be a synonym of itself."))
    entry, _created = Synonym.objects.update_or_create(client=client, term=term_n,
                                                       defaults={"means": means_n})
    audit.record("knowledge.synonym_set", actor=by, obj=entry, client=client, request=request,
                 data={"term": term_n, "means": means_n})
    return entry


@transaction.atomic
def remove_synonym(entry: Synonym, *, by: User, request: HttpRequest | None = None) -> None:
    require_perm(by, Perm.MANAGE_KNOWLEDGE)
    if entry.client is None:
        require_perm(by, Perm.MANAGE_ORGANISATION)
    else:
        _require_client(by, entry.client)
    audit.record("knowledge.synonym_removed", actor=by, obj=entry, client=entry.client,
                 request=request, data={"term": entry.term, "means": entry.means})
    entry.delete()


@transaction.atomic
def set_approver_roles(client: Client, roles: list[str], *, by: User,
                       request: HttpRequest | None = None) -> KnowledgeSettings:
    """Narrow who approves this client's drafts to some of the roles holding the permission."""
    require_perm(by, Perm.MANAGE_ORGANISATION)
    allowed = {r for r in Role.values if Perm.APPROVE_KNOWLEDGE in ROLE_PERMS.get(r, ())}
    if set(roles) - allowed:
        raise ValidationError(_("Only roles with the approve permission can approve."))
    settings, _created = KnowledgeSettings.objects.get_or_create(client=client)
    old = settings.approver_roles
    settings.approver_roles = sorted(set(roles))
    settings.save()
    audit.record("knowledge.approvers_changed", actor=by, obj=settings, client=client,
                 request=request, data={"from": old, "to": settings.approver_roles})
    return settings
