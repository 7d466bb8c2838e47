"""The routing pages: set-up (queues, rules, settings, reason codes), the agent's presence
bar and offers, and the supervisor's team view — permissions, scope, bad input, audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from satupintu.audit.models import AuditEntry
from satupintu.routing import ui_tasks
from satupintu.routing.models import (
    AgentPresence,
    PresenceEvent,
    PresenceState,
    Queue,
    ReasonCode,
    RoutingSettings,
    RuleVersion,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.services import presence, rules

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"routing:{name}", args=args)


@pytest.fixture
def queue(org):
    return Queue.objects.create(client=org.alpha, code="chat-kartu", name_id="Kartu",
                                name_en="Cards", channel="chat", is_default=True)


@pytest.fixture
def bravo_queue(org):
    return Queue.objects.create(client=org.bravo, code="bravo-chat", name_id="Bravo",
                                name_en="Bravo", channel="chat")


def actions(action):
    return AuditEntry.objects.filter(action=action)


# --- set-up pages: permissions and scope --------------------------------------------------

def test_setup_pages_need_the_routing_role(client, org, login, queue):
    login(client, org.alice)
    assert client.get(url("setup")).status_code == 403
    assert client.get(url("client", org.alpha.pk)).status_code == 403
    assert client.get(url("rules", org.alpha.pk)).status_code == 403
    response = client.post(url("rules", org.alpha.pk), {"text": "name: x\n", "comment": ""})
    assert response.status_code == 403
    assert client.post(url("queue_edit", org.alpha.pk, queue.pk),
                       {"code": "x"}).status_code == 403
    assert not RuleVersion.objects.filter(client=org.alpha, number__gt=1).exists()


@pytest.mark.parametrize("who", ["bob", "dave"])
def test_other_clients_never_see_alphas_routing(client, org, login, queue, who):
    login(client, getattr(org, who))
    for name, args in [("client", ()), ("rules", ()), ("rules_history", ()),
                       ("settings", ()), ("queue_new", ()), ("queue_edit", (queue.pk,)),
                       ("rules_version", (1,))]:
        assert client.get(url(name, org.alpha.pk, *args)).status_code == 404, name
    assert client.post(url("rules_validate", org.alpha.pk), {"text": "x"}).status_code == 404


def test_supervisor_sees_own_client_and_not_another(client, org, login, queue, bravo_queue):
    login(client, org.sam)
    page = client.get(url("setup")).content.decode()
    assert "Alpha Bank" in page and "Bravo Telco" not in page
    page = client.get(url("client", org.alpha.pk)).content.decode()
    assert 'data-queue="chat-kartu"' in page and "bravo-chat" not in page
    assert client.get(url("client", org.bravo.pk)).status_code == 404
    # Alpha's id in the URL, bravo's queue: still missing.
    assert client.get(url("queue_edit", org.alpha.pk, bravo_queue.pk)).status_code == 404


def test_nav_shows_routing_to_those_who_may_use_it(client, org, login):
    login(client, org.sam)
    page = client.get(reverse("web:home")).content.decode()
    assert f'href="{url("setup")}"' in page and f'href="{url("team")}"' in page
    client.logout()
    login(client, org.alice)
    page = client.get(reverse("web:home")).content.decode()
    assert f'href="{url("setup")}"' not in page and f'href="{url("team")}"' not in page


# --- queues ------------------------------------------------------------------------------

def _queue_post(**kw):
    data = {"code": "email-umum", "name_id": "Umum", "name_en": "General", "channel": "email",
            "team": "", "min_proficiency": "3", "language": "id", "is_default": "on",
            "is_active": "on", "order": "1"}
    data.update(kw)
    return data


def test_create_and_edit_a_queue(client, org, login, queue):
    from satupintu.accounts.models import Skill

    skill = Skill.objects.create(code="alpha-card", name="Card", client=org.alpha)
    login(client, org.sam)
    response = client.post(url("queue_new", org.alpha.pk),
                           _queue_post(skills=[skill.pk], team=org.team_a.pk))
    assert response.status_code == 302
    created = Queue.objects.get(client=org.alpha, code="email-umum")
    assert list(created.skills.all()) == [skill]
    assert created.min_proficiency == 3 and created.team == org.team_a and created.is_default
    assert actions("routing.queue_created").filter(client=org.alpha).count() == 1
    # Default for chat moves to the new chat queue; the old one loses it.
    response = client.post(url("queue_edit", org.alpha.pk, created.pk),
                           _queue_post(channel="chat", name_en="Chat general"))
    assert response.status_code == 302
    created.refresh_from_db()
    queue.refresh_from_db()
    assert created.channel == "chat" and created.is_default and not queue.is_default
    assert list(created.skills.all()) == []
    change = actions("routing.queue_changed").get()
    assert change.data["channel"] == ["email", "chat"]


@pytest.mark.parametrize("bad", [
    {"code": "has spaces"}, {"min_proficiency": "9"}, {"channel": "pigeon"},
    {"code": "chat-kartu"}, {"name_id": ""}, {"language": "xx"}, {"order": "-1"},
])
def test_queue_bad_input_is_a_form_error(client, org, login, queue, bad):
    login(client, org.sam)
    before = Queue.objects.count()
    response = client.post(url("queue_new", org.alpha.pk), _queue_post(**bad))
    assert response.status_code == 400
    assert Queue.objects.count() == before
    assert b"field-error" in response.content or b"form-errors" in response.content


def test_queue_cannot_use_another_clients_team_or_skill(client, org, login):
    from satupintu.accounts.models import Skill

    bravo_skill = Skill.objects.create(code="bravo-x", name="X", client=org.bravo)
    login(client, org.sam)
    response = client.post(url("queue_new", org.alpha.pk), _queue_post(team=org.team_b.pk))
    assert response.status_code == 400
    response = client.post(url("queue_new", org.alpha.pk), _queue_post(skills=[bravo_skill.pk]))
    assert response.status_code == 400
    assert not Queue.objects.filter(code="email-umum").exists()


# --- settings and reason codes -----------------------------------------------------------

def _settings_post(**kw):
    data = {"acw_max_seconds": "90", "after_acw": "not_ready",
            "heartbeat_timeout_seconds": "60", "sl_threshold_seconds": "30",
            "sl_target_percent": "85", "sl_formula": "offered"}
    data.update(kw)
    return data


def test_routing_settings_saved_and_audited(client, org, login):
    login(client, org.sam)
    page = client.get(url("settings", org.alpha.pk))
    assert page.status_code == 200
    assert client.post(url("settings", org.alpha.pk), _settings_post()).status_code == 302
    s = RoutingSettings.objects.get(client=org.alpha)
    assert (s.acw_max_seconds, s.after_acw, s.heartbeat_timeout_seconds, s.sl_threshold_seconds,
            s.sl_target_percent, s.sl_formula) == (90, "not_ready", 60, 30, 85, "offered")
    event = actions("routing.settings_changed").get()
    assert event.data["acw_max_seconds"] == [120, 90]


@pytest.mark.parametrize("bad", [{"heartbeat_timeout_seconds": "5"},
                                 {"sl_target_percent": "101"}, {"acw_max_seconds": "abc"},
                                 {"sl_formula": "magic"}, {"after_acw": "dancing"}])
def test_routing_settings_bad_input(client, org, login, bad):
    login(client, org.sam)
    response = client.post(url("settings", org.alpha.pk), _settings_post(**bad))
    assert response.status_code == 400
    assert not RoutingSettings.objects.filter(client=org.alpha).exists()


def test_reason_codes_add_edit_deactivate(client, org, login):
    login(client, org.sam)
    data = {"code": "sholat-jumat", "name_id": "Sholat Jumat", "name_en": "Friday prayer",
            "paid": "on", "adherent_when_scheduled": "on", "max_minutes": "60",
            "is_active": "on", "order": "5"}
    assert client.post(url("reason_new", org.alpha.pk), data).status_code == 302
    reason = ReasonCode.objects.get(client=org.alpha, code="sholat-jumat")
    assert reason.paid and reason.max_minutes == 60
    data.pop("is_active")
    data.pop("paid")
    assert client.post(url("reason_edit", org.alpha.pk, reason.pk), data).status_code == 302
    reason.refresh_from_db()
    assert not reason.is_active and not reason.paid
    assert actions("routing.reason_changed").get().data["is_active"] == [True, False]
    # A deactivated reason is no longer offered to agents.
    assert "sholat-jumat" not in {r.code for r in presence.reasons_for(org.alice)}
    # The same code twice for one client: a form error.
    data["name_en"] = "again"
    response = client.post(url("reason_new", org.alpha.pk), data)
    assert response.status_code == 400
    assert ReasonCode.objects.filter(client=org.alpha, code="sholat-jumat").count() == 1


def test_shared_and_platform_reason_codes_are_not_edited_here(client, org, login):
    login(client, org.sam)
    shared = ReasonCode.objects.get(client__isnull=True, code="break")
    assert client.get(url("reason_edit", org.alpha.pk, shared.pk)).status_code == 404
    bad = {"code": "x y", "name_id": "", "name_en": "n", "max_minutes": "0", "order": "0"}
    response = client.post(url("reason_new", org.alpha.pk), bad)
    assert response.status_code == 400
    assert not ReasonCode.objects.filter(client=org.alpha).exists()


# --- rules: validate, save, history, preview ---------------------------------------------

BROKEN_YAML = "name: alpha\nqueues:\n  chat-kartu:\n    steps: [\n      - {}\n"
BAD_STEP = """\
name: alpha
queues:
  chat-kartu:
    steps:
      - name: experts
        target: 'agent.skills["card"] >= 4'
      - name: anyone
"""
GOOD = """\
name: alpha
accept_timeout: 15
queues:
  chat-kartu:
    strategy: longest_idle
    steps:
      - name: experts
        target: 'interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 4)'
        timeout: 20
      - name: anyone of the client
"""


def test_validate_shows_each_error_with_its_line(client, org, login):
    login(client, org.sam)
    response = client.post(url("rules_validate", org.alpha.pk), {"text": BAD_STEP}, **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="rules-errors"' in page
    # The step without a timeout that is not the last one is on line 5.
    assert 'data-testid="error-line" data-line="5"' in page
    response = client.post(url("rules_validate", org.alpha.pk), {"text": GOOD}, **HTMX)
    assert 'data-testid="rules-valid"' in response.content.decode()
    response = client.post(url("rules_validate", org.alpha.pk), {"text": BROKEN_YAML})
    assert 'data-testid="error-line"' in response.content.decode()


def test_invalid_rules_are_not_saved_and_show_the_line(client, org, login):
    login(client, org.sam)
    v1 = rules.current_rules(org.alpha)
    response = client.post(url("rules", org.alpha.pk), {"text": BAD_STEP, "comment": "x"})
    assert response.status_code == 400
    assert 'data-line="5"' in response.content.decode()
    assert RuleVersion.objects.filter(client=org.alpha).count() == 1
    assert RuleVersion.objects.get(client=org.alpha, is_current=True) == v1


def test_save_makes_a_new_version_with_history_and_diff(client, org, login, queue):
    login(client, org.sam)
    rules.current_rules(org.alpha)
    response = client.post(url("rules", org.alpha.pk),
                           {"text": GOOD, "comment": "experts first for cards"})
    assert response.status_code == 302
    v2 = RuleVersion.objects.get(client=org.alpha, is_current=True)
    assert v2.number == 2 and v2.created_by == org.sam and v2.text == GOOD
    assert actions("routing.rules_saved").filter(client=org.alpha).count() == 1
    page = client.get(url("rules_history", org.alpha.pk)).content.decode()
    assert 'data-version="2"' in page and 'data-version="1"' in page
    assert "experts first for cards" in page and "Sam" in page
    page = client.get(url("rules_version", org.alpha.pk, 2)).content.decode()
    assert 'class="diff-add">+      - name: experts' in page
    assert 'class="diff-del">-' in page
    page = client.get(url("rules_version", org.alpha.pk, 1) + "?against=2").content.decode()
    assert 'class="diff-del">-      - name: experts' in page
    assert client.get(url("rules_version", org.alpha.pk, 9)).status_code == 404
    assert client.get(url("rules_version", org.alpha.pk, 2) + "?against=9").status_code == 404


def test_preview_lists_agents_with_reasons(client, org, login, queue, agent):
    from satupintu.accounts.models import AgentSkill, Skill

    card = Skill.objects.create(code="card", name="Card", client=org.alpha)
    rules.save_rules(org.alpha, GOOD, by=org.sam)
    AgentSkill.objects.create(user=org.alice, skill=card, proficiency=5)
    presence.set_state(org.alice, PresenceState.READY, connection="t")
    novice = agent("nina", full_name="Nina")
    AgentSkill.objects.create(user=novice, skill=card, proficiency=2)
    presence.set_state(novice, PresenceState.READY, connection="t")
    away = agent("anto", full_name="Anto")
    presence.set_state(away, PresenceState.NOT_READY, reason_code="break")
    login(client, org.sam)
    response = client.post(url("rules_preview", org.alpha.pk),
                           {"queue": queue.pk, "skills": [card.pk], "proficiency": "1",
                            "language": ""}, **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-agent="alice" data-eligible="1"' in page
    assert 'data-agent="nina" data-eligible="0"' in page
    assert "only after 20 s of waiting" in page
    assert 'data-agent="anto" data-eligible="0"' in page and "not ready" in page
    assert "bob" not in page
    # Another client's queue cannot be previewed under alpha.
    bad = client.post(url("rules_preview", org.alpha.pk), {"queue": "999999"})
    assert bad.status_code == 400


def test_agent_cannot_preview_or_validate(client, org, login, queue):
    login(client, org.alice)
    assert client.post(url("rules_preview", org.alpha.pk), {"queue": queue.pk}).status_code == 403
    assert client.post(url("rules_validate", org.alpha.pk), {"text": GOOD}).status_code == 403


# --- the agent's presence bar ------------------------------------------------------------

def test_presence_bar_only_for_agents(client, org, login):
    login(client, org.alice)
    page = client.get(reverse("web:home")).content.decode()
    assert 'data-testid="presence-select"' in page
    assert 'value="not_ready:prayer"' in page and 'value="not_ready:missed_offers"' not in page
    for who in (org.charlie, org.sam, org.root):
        client.logout()
        login(client, who)
        page = client.get(reverse("web:home")).content.decode()
        assert 'data-testid="presence-select"' not in page, who.username


def test_set_state_from_the_bar(client, org, login):
    login(client, org.alice)
    response = client.post(url("state"), {"state": "ready", "connection": "tab-1"}, **HTMX)
    assert response.status_code == 200
    assert 'data-state="ready"' in response.content.decode()
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert p.state == PresenceState.READY and p.connection == "tab-1"
    response = client.post(url("state"), {"state": "not_ready:prayer", "connection": "tab-1"},
                           **HTMX)
    p.refresh_from_db()
    assert p.state == PresenceState.NOT_READY and p.reason.code == "prayer"
    assert 'value="not_ready:prayer" selected' in response.content.decode()
    client.post(url("state"), {"state": "logged_out", "connection": "tab-1"}, **HTMX)
    p.refresh_from_db()
    assert p.state == PresenceState.LOGGED_OUT
    states = list(PresenceEvent.objects.filter(user=org.alice).values_list("state", "source"))
    assert states[-3:] == [("ready", "agent"), ("not_ready", "agent"), ("logged_out", "agent")]


@pytest.mark.parametrize("bad", ["", "dancing", "not_ready", "not_ready:missed_offers",
                                 "not_ready:nope", "ready:break", "acw"])
def test_bad_state_is_rejected_and_nothing_changes(client, org, login, bad):
    presence.set_state(org.alice, PresenceState.READY, connection="tab-1")
    before = PresenceEvent.objects.count()
    login(client, org.alice)
    response = client.post(url("state"), {"state": bad, "connection": "tab-1"}, **HTMX)
    assert response.status_code == 400
    assert AgentPresence.objects.get(pk=org.alice.pk).state == PresenceState.READY
    assert PresenceEvent.objects.count() == before
    # Without htmx: a translated message and back to the page.
    response = client.post(url("state"), {"state": bad}, follow=True)
    assert "Choose a state" in response.content.decode() or \
        "Choose a reason" in response.content.decode()


def test_second_tab_takes_over_and_the_first_learns_it(client, org, login):
    login(client, org.alice)
    client.post(url("state"), {"state": "ready", "connection": "tab-1"}, **HTMX)
    assert client.post(url("heartbeat"), {"connection": "tab-1"}).json() == {
        "moved": False, "state": "ready"}
    # A second tab loads and claims the presence.
    assert client.post(url("heartbeat"), {"connection": "tab-2", "claim": "1"}).json() == {
        "moved": False, "state": "ready"}
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert p.connection == "tab-2" and p.state == PresenceState.READY
    assert client.post(url("heartbeat"), {"connection": "tab-1"}).json()["moved"] is True
    # The first tab closing does not log the agent out.
    client.post(url("leave"), {"connection": "tab-1"})
    assert not ui_tasks.offline_if_gone(org.alice.pk, "tab-1", p.heartbeat_at)
    p.refresh_from_db()
    assert p.state == PresenceState.READY
    assert client.post(url("heartbeat"), {"connection": ""}).status_code == 400


def test_closing_the_last_tab_logs_out_unless_it_comes_back(client, org, login):
    from datetime import timedelta

    from django.utils import timezone

    login(client, org.alice)
    client.post(url("state"), {"state": "ready", "connection": "tab-1"}, **HTMX)
    left = timezone.now()
    assert client.post(url("leave"), {"connection": "tab-1"}).status_code == 204
    # The next page of the same tab beat after the unload: stays ready.
    client.post(url("heartbeat"), {"connection": "tab-1", "claim": "1"})
    assert not ui_tasks.offline_if_gone(org.alice.pk, "tab-1", left)
    assert AgentPresence.objects.get(pk=org.alice.pk).state == PresenceState.READY
    # Nothing after the unload: logged out, recorded as a lost connection.
    assert ui_tasks.offline_if_gone(org.alice.pk, "tab-1", timezone.now() + timedelta(seconds=1))
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert p.state == PresenceState.LOGGED_OUT
    assert PresenceEvent.objects.filter(user=org.alice).last().source == "connection_lost"


def test_presence_endpoints_need_an_agent(client, org, login):
    login(client, org.charlie)
    assert client.post(url("state"), {"state": "ready"}).status_code == 403
    assert client.post(url("heartbeat"), {"connection": "x"}).status_code == 403
    assert client.get(url("bar")).status_code == 403
    client.logout()
    assert client.post(url("state"), {"state": "ready"}).status_code == 302  # to log-in


# --- offers, accept, done, wrap-up -------------------------------------------------------

@pytest.fixture
def offered(org, inbound, queue, django_capture_on_commit_callbacks):
    presence.set_state(org.alice, PresenceState.READY, connection="tab-1")
    with django_capture_on_commit_callbacks(execute=True):
        case = inbound("chat", subject="Kartu terblokir")
    item = WorkItem.objects.get(case=case)
    assert item.status == WorkStatus.OFFERED and item.agent == org.alice
    return item


def test_offer_accept_done_and_end_wrap_up(client, org, login, offered):
    login(client, org.alice)
    page = client.get(reverse("cases:mine")).content.decode()
    assert 'data-testid="offer"' in page and offered.case.reference in page
    assert "Kartu terblokir" in page and 'data-testid="offer-accept"' in page
    response = client.post(url("accept", offered.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[offered.case.reference])
    offered.refresh_from_db()
    assert offered.status == WorkStatus.ASSIGNED
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="work-done"' in page
    assert client.post(url("accept", offered.pk)).status_code == 404  # no longer an offer
    response = client.post(url("done", offered.pk), {"next": response["Location"]})
    assert response.status_code == 302
    offered.refresh_from_db()
    assert offered.status == WorkStatus.WRAP_UP
    page = client.get(reverse("cases:mine")).content.decode()
    assert 'data-testid="wrap-up-end"' in page and "data-acw-deadline" in page
    assert AgentPresence.objects.get(pk=org.alice.pk).state == PresenceState.ACW
    client.post(url("end_wrap_up"))
    offered.refresh_from_db()
    assert offered.status == WorkStatus.DONE
    assert AgentPresence.objects.get(pk=org.alice.pk).state == PresenceState.READY


def test_decline_moves_the_offer_on(client, org, login, offered):
    login(client, org.alice)
    response = client.post(url("decline", offered.pk), {"next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response["Location"]
    offered.refresh_from_db()
    assert offered.status == WorkStatus.WAITING and org.alice.pk in offered.declined_by


def test_nobody_else_answers_an_agents_offer(client, org, login, offered, agent):
    login(client, org.bob)
    assert client.post(url("accept", offered.pk)).status_code == 404
    assert client.post(url("decline", offered.pk)).status_code == 404
    client.logout()
    login(client, agent("ani"))
    assert client.post(url("accept", offered.pk)).status_code == 404
    offered.refresh_from_db()
    assert offered.status == WorkStatus.OFFERED and offered.agent == org.alice


# --- the supervisor's team view ----------------------------------------------------------

def test_team_view_is_scoped(client, org, login):
    presence.set_state(org.bob, PresenceState.READY, connection="b")
    login(client, org.sam)
    page = client.get(url("team")).content.decode()
    assert 'data-agent="alice"' in page and 'data-agent="bob"' not in page
    client.logout()
    login(client, org.alice)
    assert client.get(url("team")).status_code == 403


def test_supervisor_changes_an_agents_state_audited(client, org, login):
    presence.set_state(org.alice, PresenceState.READY, connection="tab-1")
    presence.set_state(org.bob, PresenceState.READY, connection="b")
    login(client, org.sam)
    response = client.post(url("team_state", org.alice.pk), {"state": "not_ready:coaching"})
    assert response.status_code == 302
    p = AgentPresence.objects.get(pk=org.alice.pk)
    assert p.state == PresenceState.NOT_READY and p.reason.code == "coaching"
    event = PresenceEvent.objects.filter(user=org.alice).last()
    assert event.source == "supervisor" and event.by == org.sam
    assert actions("routing.presence_set").filter(actor=org.sam).count() == 1
    # Bob serves another client: missing, and untouched.
    assert client.post(url("team_state", org.bob.pk), {"state": "logged_out"}).status_code == 404
    assert AgentPresence.objects.get(pk=org.bob.pk).state == PresenceState.READY
    # Bad input: a message, no change.
    response = client.post(url("team_state", org.alice.pk), {"state": "not_ready"}, follow=True)
    assert "reason" in response.content.decode()
    assert AgentPresence.objects.get(pk=org.alice.pk).reason.code == "coaching"
    client.logout()
    login(client, org.alice)
    assert client.post(url("team_state", org.alice.pk), {"state": "ready"}).status_code == 403


def test_supervisor_reassigns_work_audited(client, org, login, offered, agent):
    ani = agent("ani", full_name="Ani")
    presence.set_state(ani, PresenceState.READY, connection="a")
    login(client, org.sam)
    page = client.get(url("team")).content.decode()
    assert f'data-item="{offered.pk}"' in page
    assert client.post(url("reassign", offered.pk), {"agent": org.bob.pk}).status_code == 404
    assert client.post(url("reassign", offered.pk), {"agent": "x"}).status_code == 302
    offered.refresh_from_db()
    assert offered.agent == org.alice
    response = client.post(url("reassign", offered.pk), {"agent": ani.pk})
    assert response.status_code == 302
    offered.refresh_from_db()
    assert offered.agent == ani and offered.status == WorkStatus.ASSIGNED
    assert actions("routing.reassigned").filter(actor=org.sam).count() == 1
    offered.case.refresh_from_db()
    assert offered.case.assignee == ani
    client.logout()
    login(client, org.alice)
    assert client.post(url("reassign", offered.pk), {"agent": org.alice.pk}).status_code == 403


def test_swapped_bar_sends_the_agent_back_to_the_page_not_the_fragment(client, org, login,
                                                                       offered):
    login(client, org.alice)
    client.post(url("accept", offered.pk))
    case_path = reverse("cases:detail", args=[offered.case.reference])
    response = client.post(url("state"), {"state": "ready", "connection": "tab-1"},
                           HTTP_HX_CURRENT_URL=f"http://testserver{case_path}", **HTMX)
    page = response.content.decode()
    assert f'name="next" value="{case_path}"' in page
    assert 'class="presence-item here"' in page
    assert url("state") not in page.split('name="next"')[1][:80]
    response = client.get(url("bar"), HTTP_HX_CURRENT_URL="https://evil.example/x", **HTMX)
    assert 'name="next" value="/"' in response.content.decode()
