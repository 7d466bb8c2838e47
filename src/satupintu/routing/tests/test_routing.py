"""Entry, offers, capacity, wrap-up, presence and rules of the routing core."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from satupintu.cases import services as cases
from satupintu.routing.models import (
    AgentPresence,
    PresenceEvent,
    PresenceState,
    Queue,
    ReasonCode,
    RoutingEvent,
    RoutingSettings,
    RuleVersion,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.services import assign, presence, rules, work

pytestmark = pytest.mark.django_db


def ready(user, connection="tab-1"):
    return presence.set_state(user, PresenceState.READY, connection=connection)


def kinds(item):
    return list(RoutingEvent.objects.filter(item=item).order_by("id")
                .values_list("kind", flat=True))


@pytest.mark.parametrize("channel,engine", [("email", "email"), ("phone", "call"),
                                            ("whatsapp", "chat"), ("chat", "chat"),
                                            ("web", "email")])
def test_every_channel_enters_a_queue(org, inbound, channel, engine):
    case = inbound(channel)
    item = WorkItem.objects.get(case=case)
    assert item.status == WorkStatus.WAITING
    assert item.channel == engine
    assert item.client_id == org.alpha.pk
    assert item.queue.channel == channel and item.queue.client_id == org.alpha.pk
    assert item.rules == RuleVersion.objects.get(client=org.alpha, is_current=True)
    assert item.language == "id"
    assert kinds(item) == ["enqueued"]


def test_classification_vip_priority_and_language_queue(org, inbound):
    Queue.objects.create(client=org.alpha, code="chat-en", name_id="en", name_en="en",
                         channel="chat", language="en")
    Queue.objects.create(client=org.alpha, code="chat-id", name_id="id", name_en="id",
                         channel="chat", language="id", is_default=True)
    case = inbound("chat", priority="urgent")
    item = WorkItem.objects.get(case=case)
    assert item.vip and item.priority == 2
    assert item.queue.code == "chat-id"


def test_offer_accept_complete_wrap_up(org, inbound):
    ready(org.alice)
    case = inbound("chat")
    [item] = assign.route()
    item.refresh_from_db()
    assert item.status == WorkStatus.OFFERED and item.agent == org.alice
    assert item.offer_expires_at > timezone.now()
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert p.load_chat == 1
    work.accept(item, by=org.alice)
    case.refresh_from_db()
    assert case.assignee == org.alice
    item.refresh_from_db()
    assert item.status == WorkStatus.ASSIGNED
    work.complete(item, by=org.alice)
    p.refresh_from_db()
    item.refresh_from_db()
    assert item.status == WorkStatus.WRAP_UP and p.state == PresenceState.ACW
    assert p.load_chat == 0
    work.end_wrap_up(org.alice, by=org.alice)
    p.refresh_from_db()
    item.refresh_from_db()
    assert p.state == PresenceState.READY and item.status == WorkStatus.DONE
    assert kinds(item) == ["enqueued", "offered", "accepted", "wrap_up", "done"]
    states = list(PresenceEvent.objects.filter(user=org.alice).values_list("state", flat=True))
    assert states == ["ready", "acw", "ready"]


def test_decline_goes_to_next_agent_and_not_back(org, inbound, agent):
    ready(org.alice)
    carol = agent("carol")
    ready(carol)
    inbound("chat")
    [item] = assign.route()
    first = item.agent
    work.decline(item, by=first)
    item.refresh_from_db()
    assert item.status == WorkStatus.WAITING and item.declined_by == [first.pk]
    [again] = assign.route()
    assert again.agent_id != first.pk
    work.decline(again, by=again.agent)
    assert assign.route() == []   # both declined: nobody left who has not
    assert AgentPresence.objects.get(pk=first.pk).load_chat == 0


def test_someone_elses_offer_cannot_be_answered(org, inbound, agent):
    ready(org.alice)
    carol = agent("carol")
    inbound("chat")
    [item] = assign.route()
    with pytest.raises(ValidationError):
        work.accept(item, by=carol)
    with pytest.raises(ValidationError):
        work.decline(item, by=carol)


def test_missed_offers_expire_and_n_misses_set_not_ready(org, inbound):
    ready(org.alice)
    for i in range(3):
        inbound("email", subject=f"s{i}")
    now = timezone.now()
    assert len(assign.route(now=now)) == 3          # e-mail capacity 5
    assert work.expire(now=now + timedelta(seconds=19)) == 0
    assert work.expire(now=now + timedelta(seconds=21)) == 3
    # missed items are not offered to alice again, and she is not ready anyway
    assert assign.route(now=now + timedelta(seconds=22)) == []
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert p.state == PresenceState.NOT_READY and p.reason.code == "missed_offers"
    assert p.load_email == 0
    assert RoutingEvent.objects.filter(kind="missed").count() >= 3
    ev = PresenceEvent.objects.filter(user=org.alice).last()
    assert ev.source == PresenceEvent.Source.SYSTEM and ev.reason_code == "missed_offers"
    assert not WorkItem.objects.filter(status=WorkStatus.OFFERED).exists()


def test_a_call_blocks_and_three_chats_fill_capacity(org, inbound):
    ready(org.alice)
    for i in range(5):
        inbound("chat", subject=f"chat {i}")
    offered = assign.route()
    assert len(offered) == 3
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert (p.load_chat, p.cap_chat) == (3, 3)
    for item in offered:
        work.accept(item, by=org.alice)
    inbound("phone", subject="call")
    assert assign.route() == []     # chats in hand: no call
    for item in offered:
        work.complete(item, by=org.alice, wrap_up=False)
    assert [i.channel for i in assign.route()] == ["chat", "chat"]  # older first
    # a call alone blocks everything else
    for item in WorkItem.objects.filter(status=WorkStatus.OFFERED):
        work.decline(item, by=org.alice)
    WorkItem.objects.filter(channel="chat", status="waiting").update(
        place_at=timezone.now() + timedelta(hours=1))
    [call] = assign.route()
    assert call.channel == "call"
    assert assign.route() == []


def test_capacity_is_a_database_constraint(org):
    from django.db import IntegrityError, transaction

    presence.presence_of(org.alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentPresence.objects.filter(pk=org.alice.pk).update(load_chat=4)


def test_acw_maximum_then_ready_or_not_ready(org, inbound):
    RoutingSettings.objects.create(client=org.alpha, acw_max_seconds=30, after_acw="not_ready")
    ready(org.alice)
    inbound("chat")
    [item] = assign.route()
    work.accept(item, by=org.alice)
    work.complete(item, by=org.alice)
    assert work.expire(now=timezone.now() + timedelta(seconds=10)) == 0
    assert work.expire(now=timezone.now() + timedelta(seconds=31)) == 1
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert p.state == PresenceState.NOT_READY and p.reason.code == "acw_timeout"
    item.refresh_from_db()
    assert item.status == WorkStatus.DONE


def test_customer_writing_re_enters_with_preferred_agent(org, inbound, agent):
    ready(org.alice)
    carol = agent("carol")
    case = inbound("chat")
    [item] = assign.route()
    work.accept(item, by=org.alice)
    cases.reply(case, "Baik, kami cek", by=org.alice)
    # while the contact is live a new message is the same contact
    cases.receive_customer_message(case, "Terima kasih")
    assert WorkItem.objects.filter(case=case).count() == 1
    work.complete(item, by=org.alice, wrap_up=False)
    ready(carol)
    # carol has been idle longest, but alice is the preferred agent
    AgentPresence.objects.filter(pk=org.alice.pk).update(last_contact_end=timezone.now())
    cases.receive_customer_message(case, "Masih belum bisa")
    again = WorkItem.objects.get(case=case, status=WorkStatus.WAITING)
    assert again.preferred_agent == org.alice
    [offered] = assign.route()
    assert offered.agent == org.alice


def test_rule_version_is_pinned_for_waiting_items(org, inbound):
    inbound("chat")
    v1 = rules.current_rules(org.alpha)
    text = rules.DEFAULT_RULES.replace("accept_timeout: 20", "accept_timeout: 5")
    v2 = rules.save_rules(org.alpha, text, by=org.sam, comment="faster")
    assert v2.number == 2 and v2.is_current
    assert not RuleVersion.objects.get(pk=v1.pk).is_current
    old = WorkItem.objects.get()
    inbound("chat", subject="new one")
    new = WorkItem.objects.exclude(pk=old.pk).get()
    assert old.rules_id == v1.pk and new.rules_id == v2.pk
    ready(org.alice)
    now = timezone.now()
    assign.route(now=now)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.offer_expires_at - now).total_seconds() == 20
    assert (new.offer_expires_at - now).total_seconds() == 5


def test_invalid_rules_rejected_with_the_line(org):
    bad = "name: x\nqueues:\n  billing:\n    steps:\n      - name: a\n        timeout: 5\n" \
          "      - name: b\n        target: 'agent.shoe_size > 3'\n"
    from django.utils import translation

    with translation.override("en"):
        errors = rules.validate_rules(bad)
        assert len(errors) == 1 and errors[0].startswith("Line 7:") and "shoe_size" in errors[0]
        assert rules.validate_rules("queues: {a: [")[0].startswith("Line 1:")
    with translation.override("id"):
        assert rules.validate_rules(bad)[0].startswith("Baris 7:")
    with pytest.raises(ValidationError):
        rules.save_rules(org.alpha, bad, by=org.sam)
    with pytest.raises(Http404):
        rules.save_rules(org.bravo, rules.DEFAULT_RULES, by=org.sam)
    assert RuleVersion.objects.filter(client=org.alpha).count() <= 1


def test_preview_says_who_and_why(org, agent):
    from django.utils import translation

    from satupintu.accounts.models import AgentSkill, Skill

    translation.activate("en")

    queue = Queue.objects.create(client=org.alpha, code="billing", name_id="b", name_en="b",
                                 channel="chat", min_proficiency=4)
    billing = Skill.objects.create(code="billing", name="Billing")
    queue.skills.add(billing)
    AgentSkill.objects.create(user=org.alice, skill=billing, proficiency=2)
    carol = agent("carol")
    AgentSkill.objects.create(user=carol, skill=billing, proficiency=5)
    ready(carol)
    rows = {r.user.username: r for r in rules.preview(org.alpha, queue)}
    assert rows["carol"].eligible and rows["carol"].rank == 1
    assert not rows["alice"].eligible
    assert rows["alice"].why == "logged out; skill billing 2 < 4; only after 60 s of waiting"
    ready(org.alice)
    rows = {r.user.username: r for r in rules.preview(org.alpha, queue)}
    assert rows["alice"].why == "skill billing 2 < 4; only after 60 s of waiting"
    assert rows["alice"].step == "anyone of the client"


def test_second_connection_takes_over_presence(org):
    ready(org.alice, connection="tab-1")
    p = presence.set_state(org.alice, PresenceState.NOT_READY, reason_code="break",
                           connection="tab-2")
    assert p.connection == "tab-2"
    assert AgentPresence.objects.count() == 1
    ev = PresenceEvent.objects.filter(user=org.alice).last()
    assert ev.data.get("took_over") == "tab-1"
    before = AgentPresence.objects.get().heartbeat_at
    presence.heartbeat(org.alice, "tab-1")          # the old tab's beats are ignored
    assert AgentPresence.objects.get().heartbeat_at == before
    presence.go_offline(org.alice, connection="tab-1")   # closing the old tab: no effect
    assert AgentPresence.objects.get().state == PresenceState.NOT_READY
    presence.heartbeat(org.alice, "tab-2")
    assert AgentPresence.objects.get().heartbeat_at > before


def test_heartbeat_loss_logs_out_and_withdraws_offers(org, inbound):
    ready(org.alice)
    inbound("chat")
    [item] = assign.route()
    assert presence.sweep_lost(now=timezone.now() + timedelta(seconds=30)) == 0
    assert presence.sweep_lost(now=timezone.now() + timedelta(seconds=91)) == 1
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert p.state == PresenceState.LOGGED_OUT and p.load_chat == 0
    assert PresenceEvent.objects.filter(user=org.alice).last().source == "connection_lost"
    item.refresh_from_db()
    assert item.status == WorkStatus.WAITING and item.agent is None
    assert kinds(item)[-1] == "withdrawn"


def test_supervisor_sets_state_scoped_and_audited(org):
    from satupintu.audit.models import AuditEntry

    p = presence.set_state(org.alice, PresenceState.NOT_READY, reason_code="coaching",
                           by=org.sam)
    assert p.state == PresenceState.NOT_READY
    assert PresenceEvent.objects.get(user=org.alice).source == "supervisor"
    assert AuditEntry.objects.filter(action="routing.presence_set").exists()
    with pytest.raises(Http404):
        presence.set_state(org.bob, PresenceState.READY, by=org.sam)
    with pytest.raises(ValidationError):
        presence.set_state(org.alice, PresenceState.NOT_READY, reason_code="missed_offers")
    with pytest.raises(ValidationError):
        presence.set_state(org.alice, PresenceState.NOT_READY)


def test_reassign_by_supervisor(org, inbound, agent):
    carol = agent("carol")
    ready(org.alice)
    case = inbound("chat")
    [item] = assign.route()
    work.accept(item, by=org.alice)
    work.reassign(item, carol, by=org.sam)
    item.refresh_from_db()
    case.refresh_from_db()
    assert item.agent == carol and item.status == WorkStatus.ASSIGNED
    assert case.assignee == carol
    assert AgentPresence.objects.get(pk=org.alice.pk).load_chat == 0
    assert AgentPresence.objects.get(pk=carol.pk).load_chat == 1
    with pytest.raises(ValidationError):
        work.reassign(item, org.bob, by=org.sam)
    with pytest.raises(Exception):  # noqa: B017 - an agent may not re-assign
        work.reassign(item, org.alice, by=org.alice)


def test_reason_codes_are_seeded():
    codes = set(ReasonCode.objects.filter(client__isnull=True).values_list("code", flat=True))
    assert {"break", "meal", "prayer", "coaching", "training", "meeting", "system_problem",
            "missed_offers", "acw_timeout", "connection_lost"} <= codes
    assert not ReasonCode.objects.get(client__isnull=True, code="meal").paid
    assert ReasonCode.objects.get(client__isnull=True, code="missed_offers").system


def test_routing_after_commit_without_the_worker(org, inbound,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ready(org.alice)
    with django_capture_on_commit_callbacks(execute=True):
        inbound("chat")
    assert WorkItem.objects.get().status == WorkStatus.OFFERED


def test_channel_layer_down_routing_continues(org, inbound, monkeypatch,
                                              django_capture_on_commit_callbacks):
    class Broken:
        async def group_send(self, *a, **k):
            raise ConnectionError("redis down")

    monkeypatch.setattr("satupintu.cases.live.get_channel_layer", lambda: Broken())
    with django_capture_on_commit_callbacks(execute=True):
        ready(org.alice)
    with django_capture_on_commit_callbacks(execute=True):
        inbound("chat")
    item = WorkItem.objects.get()
    assert item.status == WorkStatus.OFFERED
    work.accept(item, by=org.alice)


def test_routing_fault_never_loses_the_message(org, inbound, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("router down")

    monkeypatch.setattr(work, "classify", boom)
    case = inbound("chat")
    assert case.pk and case.events.count() == 1
    assert not WorkItem.objects.exists()


def test_a_long_line_of_unroutable_work_does_not_hide_routable_work(org, inbound):
    ready(org.alice)
    for i in range(5):
        inbound("chat", subject=f"old {i}")
    WorkItem.objects.update(declined_by=[org.alice.pk])  # alice refused these five
    late = inbound("chat", subject="new")
    offered = assign.route(limit=2)           # looked at two at a time, in line order
    assert [i.case_id for i in offered] == [late.pk]


def test_worker_command_runs_one_pass(org, inbound, capsys):
    from satupintu.cli import main

    ready(org.alice)
    inbound("chat")
    assert main(["route", "--once"]) == 0
    assert WorkItem.objects.get().status == WorkStatus.OFFERED
    assert "1" in capsys.readouterr().out


def test_a_case_closed_while_waiting_is_not_offered(org, inbound):
    case = inbound("email")
    cases.change_status(case, "resolved", by=org.alice)
    ready(org.alice)
    assert assign.route() == []
    item = WorkItem.objects.get(case=case)
    assert item.status == WorkStatus.CANCELLED and kinds(item)[-1] == "cancelled"


def test_a_callback_keeps_its_place_in_line(org, inbound):
    earlier = timezone.now() - timedelta(minutes=5)
    inbound("chat", subject="first in line now")
    callback = inbound("chat", subject="callback", data={"callback_place_at": earlier.isoformat()})
    item = WorkItem.objects.get(case=callback)
    assert item.place_at == earlier and item.enqueued_at > earlier
    ready(org.alice)
    AgentPresence.objects.filter(pk=org.alice.pk).update(cap_chat=1)
    [offered] = assign.route()
    assert offered.case_id == callback.pk


def test_an_agent_changed_after_the_choice_is_not_offered(org, inbound, agent, monkeypatch):
    """Between reading the agents and locking the chosen one, alice fills up elsewhere: the
    locked row is not what the choice was made on, so the engine is asked again."""
    carol = agent("carol")
    ready(org.alice)
    ready(carol)
    AgentPresence.objects.filter(pk=carol.pk).update(last_contact_end=timezone.now())
    inbound("chat")
    real = assign._Pass.confirm

    def meanwhile(self):
        AgentPresence.objects.filter(pk=org.alice.pk).update(load_chat=3)
        return real(self)

    monkeypatch.setattr(assign._Pass, "confirm", meanwhile)
    [item] = assign.route()
    assert item.agent_id == carol.pk       # alice (longest idle) was chosen first
    assert AgentPresence.objects.get(pk=org.alice.pk).load_chat == 3
    assert AgentPresence.objects.get(pk=carol.pk).load_chat == 1
