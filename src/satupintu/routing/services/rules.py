"""Per-client routing rules: versions, validation with line numbers, compilation, preview.

The rules are the engine router's YAML format (``docs/engine-router.md``); a client has one
document covering all its queues. Every save is a new version; work items keep the version
they entered with, so a change never re-routes what is already waiting under other terms.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, User
from satupintu.accounts.permissions import client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit
from satupintu.engine.router import (
    Agent,
    Interaction,
    Overflow,
    RouterError,
    RuleSet,
    choose_agent,
)
from satupintu.routing.models import ENGINE_CHANNEL, Queue, RuleVersion

DEFAULT_RULES = """\
# Routing rules (the engine router's format). One plan per queue code; "default" covers
# every queue not listed. Steps widen as the contact waits.
name: default
accept_timeout: 20          # seconds an agent has to accept an offer
max_missed_offers: 3        # missed offers in a row before the agent is set not ready
vip_boost: 5                # added to the priority of VIP contacts
queues:
  default:
    strategy: longest_idle
    steps:
      - name: known agent
        preferred_agent: true
        timeout: 30
      - name: skilled
        target: 'interaction.skills.all(s, agent.skills[s] >= interaction.skills[s])'
        timeout: 60
      - name: anyone of the client
# A named queue may overflow to another after a wait, keeping its place in line:
#   billing:
#     overflow: {to: general, after: 120}
#     steps: ...
# and a step may prefer a site: target: 'agent.site == "mks"'
"""

_cache: dict[int, RuleSet] = {}
_cache_lock = threading.Lock()


def _parse(text: str, version: str) -> RuleSet:
    data = yaml.safe_load(text)
    if isinstance(data, dict):
        data = dict(data)
        data.setdefault("version", version)
    return RuleSet.from_dict(data)


def compile_rules(version: RuleVersion) -> RuleSet:
    """The engine's compiled form of a version; versions never change, so cache by id."""
    rs = _cache.get(version.pk)
    if rs is None:
        rs = _parse(version.text, version.engine_version)
        with _cache_lock:
            _cache[version.pk] = rs
    return rs


def compile_rules_id(version_id: int) -> RuleSet:
    rs = _cache.get(version_id)
    if rs is None:
        rs = compile_rules(RuleVersion.objects.get(pk=version_id))
    return rs


def current_rules(client: Client | int) -> RuleVersion:
    """The client's current version; the default plan becomes v1 for a client with none."""
    client_id = client if isinstance(client, int) else client.pk
    current = RuleVersion.objects.filter(client_id=client_id, is_current=True).first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            return RuleVersion.objects.create(
                client_id=client_id, number=1, text=DEFAULT_RULES, is_current=True,
                comment="default", created_at=timezone.now())
    except IntegrityError:  # another process created it first
        return RuleVersion.objects.get(client_id=client_id, is_current=True)


# --- validation --------------------------------------------------------------------------

_QUEUE_RE = re.compile(r"queue '([^']+)'(?: step (\d+))?")
_KEY_RE = re.compile(r"^(name|version|accept_timeout|max_missed_offers|vip_boost|queues)\b")


def _lines(text: str) -> dict[Any, int]:
    """Line numbers (1-based) of the top keys, queue keys and step items."""
    out: dict[Any, int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return out
    if not isinstance(root, yaml.MappingNode):
        return out
    for key, value in root.value:
        out[str(key.value)] = key.start_mark.line + 1
        if key.value == "queues" and isinstance(value, yaml.MappingNode):
            for qkey, qval in value.value:
                out[("queue", str(qkey.value))] = qkey.start_mark.line + 1
                if not isinstance(qval, yaml.MappingNode):
                    continue
                for skey, sval in qval.value:
                    if skey.value == "overflow":
                        out[("overflow", str(qkey.value))] = skey.start_mark.line + 1
                    if skey.value == "steps" and isinstance(sval, yaml.SequenceNode):
                        for i, item in enumerate(sval.value):
                            out[("step", str(qkey.value), i + 1)] = item.start_mark.line + 1
    return out


def _line_of(message: str, lines: dict[Any, int]) -> int:
    m = _QUEUE_RE.search(message)
    if m:
        if "overflow" in message and ("overflow", m.group(1)) in lines:
            return lines[("overflow", m.group(1))]
        if m.group(2):
            line = lines.get(("step", m.group(1), int(m.group(2))))
            if line:
                return line
        line = lines.get(("queue", m.group(1)))
        if line:
            return line
    for key in ("max_missed_offers", "accept_timeout", "vip_boost", "version", "queues"):
        if key in message and key in lines:
            return lines[key]
    return 1


def validate_rules(text: str, client: Client | None = None) -> list[str]:
    """Every problem, each naming its line; empty when the rules can be saved. With
    ``client``, also that every overflow goes to one of its active queues of the same
    channel."""
    if not text or not text.strip():
        return [_("Line %(line)d: the rules are empty.") % {"line": 1}]
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return [_("Line %(line)d: not valid YAML: %(problem)s")
                % {"line": line, "problem": exc.problem or exc.context or ""}]
    except yaml.YAMLError as exc:
        return [_("Line %(line)d: not valid YAML: %(problem)s") % {"line": 1, "problem": exc}]
    if not isinstance(data, dict):
        return [_("Line %(line)d: the rules must be a mapping of keys (name, queues, ...).")
                % {"line": 1}]
    try:
        parsed = _parse(text, "check")
    except RouterError as exc:
        return [_("Line %(line)d: %(problem)s") % {"line": _line_of(str(exc), _lines(text)),
                                                   "problem": exc}]
    except (TypeError, ValueError) as exc:
        return [_("Line %(line)d: %(problem)s") % {"line": 1, "problem": exc}]
    return [] if client is None else _overflow_problems(parsed, client, _lines(text))


def _overflow_problems(parsed: RuleSet, client: Client, lines: dict[Any, int]) -> list[str]:
    queues = {q.code: q for q in Queue.objects.filter(client=client, is_active=True)}
    problems = []
    for name, plan in parsed.queues.items():
        if plan.overflow is None:
            continue
        line = lines.get(("overflow", name)) or lines.get(("queue", name)) or 1
        dest = queues.get(plan.overflow.to)
        if dest is None:
            problems.append(_("Line %(line)d: queue '%(queue)s' overflows to '%(to)s', which "
                              "is not an active queue of this client.")
                            % {"line": line, "queue": name, "to": plan.overflow.to})
            continue
        source = queues.get(name)
        if source is not None and ENGINE_CHANNEL[source.channel] != ENGINE_CHANNEL[dest.channel]:
            problems.append(_("Line %(line)d: queue '%(queue)s' overflows to '%(to)s', a queue "
                              "of another channel (%(channel)s).")
                            % {"line": line, "queue": name, "to": plan.overflow.to,
                               "channel": dest.get_channel_display()})
    return problems


def _require_rules_editor(by: User, client: Client) -> None:
    require_perm(by, Perm.SUPERVISE)
    if client.pk not in client_ids(by):
        from django.http import Http404
        raise Http404(_("Not found."))


@transaction.atomic
def save_rules(client: Client, text: str, *, by: User, comment: str = "",
               request: HttpRequest | None = None) -> RuleVersion:
    """A new current version; waiting work keeps the version it entered with."""
    _require_rules_editor(by, client)
    errors = validate_rules(text, client)
    if errors:
        raise ValidationError(errors, code="invalid_rules")
    current = current_rules(client)
    # Lock the current row: two saves at once get consecutive numbers, one current.
    RuleVersion.objects.select_for_update().filter(pk=current.pk).first()
    number = (RuleVersion.objects.filter(client=client).aggregate(n=Max("number"))["n"] or 0) + 1
    RuleVersion.objects.filter(client=client, is_current=True).update(is_current=False)
    version = RuleVersion.objects.create(client=client, number=number, text=text,
                                         comment=(comment or "")[:200], is_current=True,
                                         created_by=by, created_at=timezone.now())
    audit.record("routing.rules_saved", actor=by, obj=version, client=client, request=request,
                 data={"number": number, "previous": current.number, "comment": comment[:200]})
    return version


# --- preview -----------------------------------------------------------------------------


@dataclass
class PreviewRow:
    """One agent of the client in the preview: would they be offered this contact now?"""

    user: User
    state: str
    eligible: bool
    step: str
    after_seconds: float | None
    rank: int | None
    why: str


def preview(client: Client, queue: Queue, *, language: str = "", vip: bool = False,
            skills: dict[str, int] | None = None,
            now: datetime | None = None) -> list[PreviewRow]:
    """Which agents would be offered a new contact in ``queue`` now, in which order, and
    why the others would not: the same engine choose function the routing pass calls."""
    from satupintu.routing.models import AgentPresence, PresenceState
    from satupintu.routing.services.assign import agent_for

    now = now or timezone.now()
    version = current_rules(client)
    rules = compile_rules(version)
    channel = ENGINE_CHANNEL[queue.channel]
    if skills is None:
        skills = {s.code: queue.min_proficiency for s in queue.skills.all()}
    ix = Interaction(id="preview", queue=queue.code, channel=channel, client=str(client.pk),
                     skills=dict(skills), language=language or queue.language,
                     vip=vip, enqueue_time=0.0, rule_version=version.engine_version)
    try:
        schedule = rules.plan(queue.code).schedule(ix)
    except RouterError:
        return []
    users = list(User.objects.filter(clients=client, role="agent", is_active=True)
                 .order_by("username"))
    presences = {p.user_id: p for p in AgentPresence.objects.filter(user__in=users)}
    rows: list[PreviewRow] = []
    ready_agents: list[Agent] = []
    by_id: dict[str, PreviewRow] = {}
    for user in users:
        p = presences.get(user.pk)
        state = p.state if p else PresenceState.LOGGED_OUT
        agent = agent_for(user.pk, p)
        first: tuple[str, float] | None = None
        for step, start in schedule:
            if step.eligible(agent, ix):
                first = (step.name, start)
                break
        parts: list[str] = []
        if state != PresenceState.READY:
            parts.append(_("not ready") if state != PresenceState.LOGGED_OUT else _("logged out"))
        elif not agent.can_take(channel):
            parts.append(_("no capacity on %(channel)s") % {"channel": channel})
        gap = _skill_gap(agent, ix)
        if first is None:
            parts.append(gap or _("does not match any step of the rules"))
        elif first[1] > 0:
            if gap:
                parts.append(gap)
            parts.append(_("only after %(seconds)d s of waiting") % {"seconds": int(first[1])})
        why = "; ".join(parts)
        row = PreviewRow(user=user, state=state, eligible=not why, step=first[0] if first else "",
                         after_seconds=first[1] if first else None, rank=None, why=why)
        rows.append(row)
        if not why:
            ready_agents.append(agent)
            by_id[agent.id] = row
    # Rank with the engine's choose function: best, then best of the rest, ...
    rank = 1
    remaining = list(ready_agents)
    while remaining:
        best = choose_agent(ix, remaining, rules, 0.0)
        if best is None:
            break
        by_id[best.id].rank = rank
        rank += 1
        remaining = [a for a in remaining if a is not best]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.user.username))
    return rows


def overflow_of(client: Client, queue: Queue) -> Overflow | None:
    """The current rules' overflow of ``queue`` (for the preview)."""
    try:
        return compile_rules(current_rules(client)).plan(queue.code).overflow
    except RouterError:
        return None


def _skill_gap(agent: Agent, ix: Interaction) -> str:
    for skill, level in sorted(ix.skills.items()):
        have = agent.skills.get(skill, 0)
        if have < level:
            return _("skill %(skill)s %(have)d < %(need)d") % {"skill": skill, "have": have,
                                                               "need": level}
    return ""
