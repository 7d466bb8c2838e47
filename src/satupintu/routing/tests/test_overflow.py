"""Overflow: a contact still waiting after its queue's time moves to the next queue, keeping
its place in line; rules name only real queues of the client; the figures count it once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from satupintu.commands.route import one_pass
from satupintu.routing.models import (
    PresenceState,
    Queue,
    RoutingEvent,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.services import assign, presence, rules, work
from satupintu.routing.services.overflow import overflow_due
from satupintu.wallboard import kpis

pytestmark = pytest.mark.django_db

RULES = """\
name: overflow test
accept_timeout: 20
queues:
  billing:
    overflow: {to: general, after: 60}
    steps:
      - name: mortgage specialists
        target: "'kpr' in agent.skills"
  general:
    overflow: {to: backup, after: 60}
    steps:
      - name: mortgage specialists
        target: "'kpr' in agent.skills"
  default:
    steps:
      - name: anyone
"""


@pytest.fixture
def queues(org):
    def make(code, order, **kw):
        return Queue.objects.create(client=org.alpha, code=code, name_id=code, name_en=code,
                                    channel="chat", order=order, **kw)

    out = {"billing": make("billing", 0, is_default=True), "general": make("general", 1),
           "backup": make("backup", 2)}
    rules.save_rules(org.alpha, RULES, by=org.sam)
    return out


def kinds(item):
    return list(RoutingEvent.objects.filter(item=item).order_by("id")
                .values_list("kind", flat=True))


def test_a_waiting_contact_moves_after_its_time_and_keeps_its_place(org, inbound, queues):
    case = inbound("chat")
    item = WorkItem.objects.get(case=case)
    assert item.queue == queues["billing"]
    t0 = item.enqueued_at
    assert overflow_due(now=t0 + timedelta(seconds=59)) == 0
    assert overflow_due(now=t0 + timedelta(seconds=61)) == 1
    item.refresh_from_db()
    assert item.queue == queues["general"] and item.status == WorkStatus.WAITING
    assert item.place_at == t0 and item.enqueued_at == t0  # its place in line is kept
    assert item.queue_since == t0 + timedelta(seconds=61)
    event = RoutingEvent.objects.get(item=item, kind=RoutingEvent.Kind.OVERFLOWED)
    assert event.queue == queues["general"]
    assert event.data["from"] == "billing" and event.data["to"] == "general"
    assert kinds(item) == ["enqueued", "overflowed"]


def test_each_queue_counts_its_own_time_along_a_chain(org, inbound, queues):
    item = WorkItem.objects.get(case=inbound("chat"))
    t0 = item.enqueued_at
    assert overflow_due(now=t0 + timedelta(seconds=61)) == 1
    # 100 s after entering, 39 s in general: it stays
    assert overflow_due(now=t0 + timedelta(seconds=100)) == 0
    assert overflow_due(now=t0 + timedelta(seconds=122)) == 1
    item.refresh_from_db()
    assert item.queue == queues["backup"]
    # backup has no overflow of its own (the default plan): it waits there
    assert overflow_due(now=t0 + timedelta(hours=1)) == 0
    assert kinds(item) == ["enqueued", "overflowed", "overflowed"]


def test_an_offered_contact_is_not_moved(org, inbound, queues, agent):
    kpr = _skilled(org, agent)
    presence.set_state(kpr, PresenceState.READY, connection="t")
    item = WorkItem.objects.get(case=inbound("chat"))
    [offered] = assign.route()
    assert offered.pk == item.pk
    assert overflow_due(now=item.enqueued_at + timedelta(minutes=5)) == 0
    item.refresh_from_db()
    assert item.queue == queues["billing"] and item.status == WorkStatus.OFFERED


def test_after_the_move_the_new_queues_agents_are_offered_it(org, inbound, queues):
    presence.set_state(org.alice, PresenceState.READY, connection="t")  # no 'kpr' skill
    item = WorkItem.objects.get(case=inbound("chat"))
    assert assign.route() == []  # billing wants a mortgage specialist
    WorkItem.objects.filter(pk=item.pk).update(
        enqueued_at=item.enqueued_at - timedelta(seconds=61))
    # the routing worker's pass moves it (billing -> general: a specialist again)...
    one_pass(100)
    item.refresh_from_db()
    assert item.queue == queues["general"] and item.status == WorkStatus.WAITING
    # ... and a minute later into backup, where anyone of the client may take it
    WorkItem.objects.filter(pk=item.pk).update(
        queue_since=timezone.now() - timedelta(seconds=61))
    one_pass(100)
    item.refresh_from_db()
    assert item.queue == queues["backup"]
    assert item.status == WorkStatus.OFFERED and item.agent == org.alice
    work.accept(item, by=org.alice)
    figures = {q.code: q for q in kpis.day_figures(org.alpha).queues}
    assert (figures["billing"].offered, figures["billing"].overflowed,
            figures["billing"].answered) == (1, 1, 0)
    assert (figures["general"].offered, figures["general"].overflowed,
            figures["general"].answered) == (0, 1, 0)
    assert (figures["backup"].offered, figures["backup"].overflowed,
            figures["backup"].answered) == (0, 0, 1)
    # offered once in all, answered once in all: nothing counted twice
    assert sum(q.offered for q in figures.values()) == 1
    assert sum(q.answered for q in figures.values()) == 1


def test_a_callback_keeps_its_place_across_the_move(org, inbound, queues):
    earlier = timezone.now() - timedelta(minutes=30)
    callback = inbound("chat", subject="callback",
                       data={"callback_place_at": earlier.isoformat()})
    item = WorkItem.objects.get(case=callback)
    overflow_due(now=item.enqueued_at + timedelta(seconds=61))
    item.refresh_from_db()
    assert item.queue == queues["general"] and item.place_at == earlier


def test_a_destination_gone_since_keeps_the_contact_where_it_is(org, inbound, queues):
    item = WorkItem.objects.get(case=inbound("chat"))
    Queue.objects.filter(pk=queues["general"].pk).update(is_active=False)
    assert overflow_due(now=item.enqueued_at + timedelta(seconds=61)) == 0
    item.refresh_from_db()
    assert item.queue == queues["billing"] and item.status == WorkStatus.WAITING


@translation.override("en")
def test_rules_may_only_overflow_to_an_active_queue_of_the_same_channel(org, queues):
    bad = RULES.replace("to: backup", "to: nowhere")
    errors = rules.validate_rules(bad, org.alpha)
    # the line of general's overflow key
    assert errors == ["Line 10: queue 'general' overflows to 'nowhere', which is not an "
                      "active queue of this client."]
    with pytest.raises(ValidationError):
        rules.save_rules(org.alpha, bad, by=org.sam)
    Queue.objects.create(client=org.alpha, code="mail", name_id="mail", name_en="mail",
                         channel="email")
    errors = rules.validate_rules(RULES.replace("to: backup", "to: mail"), org.alpha)
    assert len(errors) == 1 and "another channel" in errors[0] and errors[0].startswith("Line 10")
    # a circle is refused by the engine, on the line of the queue that starts it
    errors = rules.validate_rules(RULES.replace("to: backup", "to: billing"), org.alpha)
    assert errors and "circle" in errors[0] and errors[0].startswith("Line 5:")


def test_validation_page_reports_an_unknown_destination(client, org, login, queues):
    login(client, org.sam)
    response = client.post(reverse("routing:rules_validate", args=[org.alpha.pk]),
                           {"text": RULES.replace("to: general", "to: nowhere")},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="error-line" data-line="5"' in response.content.decode()
    # in the reader's language (Indonesian here), naming the queue and its destination
    assert "&#x27;nowhere&#x27;" in response.content.decode()
    assert "&#x27;billing&#x27;" in response.content.decode()


def _skilled(org, agent):
    from satupintu.accounts.models import AgentSkill, Skill

    user = agent("kpr.agent")
    skill = Skill.objects.create(code="kpr", name="KPR", client=org.alpha)
    AgentSkill.objects.create(user=user, skill=skill, proficiency=3)
    return user


@translation.override("en")
def test_the_preview_says_where_a_waiting_contact_goes(client, org, login, queues):
    login(client, org.sam)
    preview = reverse("routing:rules_preview", args=[org.alpha.pk])
    page = client.post(preview, {"queue": queues["billing"].pk, "language": ""},
                       HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="preview-overflow"' in page
    assert "60 s" in page and "general" in page
    page = client.post(preview, {"queue": queues["backup"].pk, "language": ""},
                       HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="preview-overflow"' not in page
