"""SLA clocks wired into cases: deadlines to the second, pauses, the breach job, escalation."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError

from satupintu.accounts.models import Team
from satupintu.audit.models import AuditEntry
from satupintu.cases import services as cases
from satupintu.cases.models import CaseEvent, Priority
from satupintu.customers import services as customers
from satupintu.sla import services
from satupintu.sla.models import BusinessCalendar, CaseSla, Closure, SlaPolicy, weekly_hours
from satupintu.sla.tasks import check_sla_clocks
from satupintu.web.consumers import team_group, user_group

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)


@contextmanager
def frozen(moment: datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(UTC)):
        yield


def _policy(client, calendar, priority="normal", **kw):
    values = {"first_response_minutes": 120, "resolution_minutes": 480,
              "next_response_minutes": 60, "warn_at_percent": 80}
    values.update(kw)
    return SlaPolicy.objects.create(client=client, priority=priority, calendar=calendar,
                                    name=f"{client.code} {priority}", **values)


@pytest.fixture
def office(org):
    """Alpha: Monday to Friday 08:00–17:00 WIB, closed on public holidays."""
    cal = BusinessCalendar.objects.create(name="Alpha office", client=org.alpha,
                                          timezone="Asia/Jakarta",
                                          weekly_hours=weekly_hours("08:00", "17:00"))
    return _policy(org.alpha, cal)


@pytest.fixture
def dewi(org):
    return customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("phone", "081234567890")])


def _open(org, customer, at, **kw):
    with frozen(at):
        return cases.create_case(customer.client, customer, "Kartu terblokir", by=org.alice,
                                 body="Kartu saya terblokir.", now=at.astimezone(UTC), **kw)


def _sla(case) -> CaseSla:
    return CaseSla.objects.get(case=case)


def test_first_response_deadline_skips_the_weekend(org, office, dewi):
    case = _open(org, dewi, wib(2026, 11, 20, 16, 0))  # Friday 16:00 WIB
    row = _sla(case)
    # 60 minutes on Friday, the other 60 on Monday morning.
    assert row.first_response_due == wib(2026, 11, 23, 9, 0)
    assert row.resolution_due == wib(2026, 11, 23, 15, 0)  # 1 h on Friday, 7 h on Monday
    assert row.next_response_due is None
    assert row.next_due == row.first_response_due
    # Warning at 80 % of 120 min = 96 min: 60 on Friday, 36 on Monday.
    assert row.attention_at == wib(2026, 11, 23, 8, 36)
    assert row.first_response_state == "running"


def test_public_holiday_and_ad_hoc_closure_are_skipped(org, office, dewi):
    # Wednesday 13 May 2026, 16:00 WIB; Thursday 14 May is Ascension Day.
    case = _open(org, dewi, wib(2026, 5, 13, 16, 0))
    assert _sla(case).first_response_due == wib(2026, 5, 15, 9, 0)
    # A cuti bersama on Friday moves the deadline to Monday 18 May.
    Closure.objects.create(calendar=office.calendar, date=date(2026, 5, 15),
                           reason="Cuti bersama")
    services.recompute(case, wib(2026, 5, 13, 16, 30))
    assert _sla(case).first_response_due == wib(2026, 5, 18, 9, 0)
    # Special hours instead: open 10:00–12:00 on Friday.
    Closure.objects.filter(date=date(2026, 5, 15)).update(opens="10:00", closes="12:00")
    services.recompute(case, wib(2026, 5, 13, 16, 30))
    assert _sla(case).first_response_due == wib(2026, 5, 15, 11, 0)


def test_same_hours_in_wib_and_wita_give_different_deadlines(org, office, dewi):
    wita_cal = BusinessCalendar.objects.create(name="Bravo Makassar", client=org.bravo,
                                               timezone="Asia/Makassar",
                                               weekly_hours=weekly_hours("08:00", "17:00"))
    _policy(org.bravo, wita_cal, first_response_minutes=60)
    office.first_response_minutes = 60
    office.save()
    budi = customers.create_customer(org.bravo, "Budi Santoso", by=org.bob,
                                     identities=[("phone", "081298765432")])
    at = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 07:30 WIB (closed), 08:30 WITA (open)
    in_wib = _open(org, dewi, at)
    with frozen(at):
        in_wita = cases.create_case(org.bravo, budi, "Tagihan", by=org.bob, now=at)
    assert _sla(in_wib).first_response_due == wib(2026, 11, 23, 9, 0)
    assert _sla(in_wita).first_response_due == datetime(2026, 11, 23, 9, 30, tzinfo=WITA)
    assert (_sla(in_wib).first_response_due - _sla(in_wita).first_response_due
            == timedelta(minutes=30))


def test_pending_customer_pauses_and_a_reply_continues(org, office, dewi):
    case = _open(org, dewi, wib(2026, 11, 23, 8, 0))  # Monday 08:00
    assert _sla(case).resolution_due == wib(2026, 11, 23, 16, 0)
    with frozen(wib(2026, 11, 23, 9, 0)):
        cases.reply(case, "Mohon kirim foto kartu Anda.", by=org.alice)
        cases.change_status(case, "pending_customer", by=org.alice)
    row = _sla(case)
    assert row.first_response_state == "met"
    assert row.resolution_state == "paused"
    assert row.next_due is None  # a paused clock has no deadline to sort on
    # Two hours later the customer answers: the case reopens and the clock runs on.
    cases.receive_customer_message(case, "Ini fotonya.", now=wib(2026, 11, 23, 11, 0))
    row = _sla(case)
    assert row.resolution_state == "running"
    assert row.resolution_due == wib(2026, 11, 24, 9, 0)  # 16:00 + 2 h paused → Tue 09:00
    # The customer's message starts a next-response clock of 60 business minutes.
    assert row.next_response_due == wib(2026, 11, 23, 12, 0)
    assert row.next_due == wib(2026, 11, 23, 12, 0)
    with frozen(wib(2026, 11, 23, 11, 20)):
        cases.reply(case, "Terima kasih, kami proses.", by=org.alice)
    assert _sla(case).next_response_state == "met"
    with frozen(wib(2026, 11, 23, 14, 0)):
        cases.change_status(case, "resolved", by=org.alice)
    row = _sla(case)
    assert row.resolution_state == "met" and row.next_due is None and row.attention_at is None


def test_priority_change_switches_policy(org, office, dewi):
    _policy(org.alpha, office.calendar, priority="urgent", first_response_minutes=15)
    case = _open(org, dewi, wib(2026, 11, 23, 8, 0))
    with frozen(wib(2026, 11, 23, 8, 5)):
        cases.update_case(case, by=org.alice, priority=Priority.URGENT)
    assert _sla(case).first_response_due == wib(2026, 11, 23, 8, 15)


def test_calendar_hours_are_validated():
    cal = BusinessCalendar(name="x", weekly_hours=[[["17:00", "08:00"]]] + [[]] * 6)
    with pytest.raises(ValidationError):
        cal.clean()
    with pytest.raises(ValidationError):
        BusinessCalendar(name="x", weekly_hours=[[]] * 5).clean()
    with pytest.raises(ValidationError):
        BusinessCalendar(name="x", weekly_hours=[[["8", "x"]]] + [[]] * 6).clean()
    BusinessCalendar(name="ok", weekly_hours=[[["00:00", "24:00"]]] * 7).clean()


def test_case_without_policy_has_no_clocks(org, dewi):
    case = _open(org, dewi, wib(2026, 11, 23, 8, 0))
    row = _sla(case)
    assert row.policy is None and row.next_due is None and row.attention_at is None


def _listen(*groups: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return channel


def _received(channel: str) -> list[dict]:
    layer = get_channel_layer()
    out = []
    while (queue := layer.channels.get(channel)) is not None and not queue.empty():
        out.append(async_to_sync(layer.receive)(channel)["payload"])
    return out


def test_job_warns_once_breaches_once_escalates_once(org, office, dewi,
                                                      django_capture_on_commit_callbacks):
    org.team_a.leader = org.sam
    org.team_a.save()
    escalation = Team.objects.create(site=org.site, name="Alpha escalations")
    escalation.clients.set([org.alpha])
    office.first_response_minutes = 60
    office.raise_priority = True
    office.escalate_to_team = escalation
    office.save()
    _policy(org.alpha, office.calendar, priority="high", first_response_minutes=30)
    case = _open(org, dewi, wib(2026, 11, 23, 8, 0), team=org.team_a, assignee=org.alice)
    agent = _listen(user_group(org.alice.pk))
    leader = _listen(user_group(org.sam.pk))
    team = _listen(team_group(escalation.pk))

    def run(at: datetime) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return services.run_checks(at)

    assert run(wib(2026, 11, 23, 8, 40)) == 0  # before the warning at 08:48
    assert run(wib(2026, 11, 23, 8, 50)) == 1
    assert run(wib(2026, 11, 23, 8, 55)) == 0
    warning = CaseEvent.objects.get(case=case, kind="sla")
    assert warning.data["sla"] == "warning" and warning.data["clock"] == "first_response"
    assert [p["kind"] for p in _received(agent)] == ["sla_warning"]

    assert run(wib(2026, 11, 23, 9, 5)) == 2  # the breach, and the escalation
    assert run(wib(2026, 11, 23, 9, 5)) == 0
    assert run(wib(2026, 11, 23, 9, 10)) == 0
    sla_events = list(CaseEvent.objects.filter(case=case, kind="sla"))
    assert [e.data["sla"] for e in sla_events] == ["warning", "breach", "escalated"]
    assert sla_events[1].data["deadline"] == wib(2026, 11, 23, 9, 0).isoformat()
    assert set(sla_events[2].data["actions"]) == {"raise_priority", "reassign_team",
                                                  "notify_leader"}
    case.refresh_from_db()
    assert case.priority == Priority.HIGH and case.team == escalation
    assert CaseEvent.objects.filter(case=case, kind="update", data__why="sla").count() == 1
    assert [p["kind"] for p in _received(agent)] == ["sla_breach", "sla_escalated"]
    assert [p["kind"] for p in _received(leader)] == ["sla_escalated"]
    assert [p["kind"] for p in _received(team)] == ["sla_escalated"]
    actions = list(AuditEntry.objects.filter(action__startswith="sla.").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["sla.warning", "sla.breached", "sla.escalated"]
    row = _sla(case)
    assert row.breached and row.escalated_at is not None
    assert row.policy.priority == "high"  # the raised priority's policy now applies


def test_job_leaves_resolved_cases_alone(org, office, dewi):
    case = _open(org, dewi, wib(2026, 11, 23, 8, 0))
    with frozen(wib(2026, 11, 23, 8, 30)):
        cases.change_status(case, "resolved", by=org.alice)
    assert services.run_checks(wib(2026, 11, 23, 12, 0)) == 0
    assert not CaseEvent.objects.filter(case=case, kind="sla").exists()


def test_periodic_task_runs_the_checks(org, office, dewi):
    case = _open(org, dewi, wib(2026, 11, 23, 8, 0))
    with frozen(wib(2026, 11, 23, 12, 0)):
        assert check_sla_clocks.call_local() == 1  # breached first response (no escalation)
        assert check_sla_clocks.call_local() == 0
    assert CaseEvent.objects.filter(case=case, kind="sla").count() == 1


def test_demo_has_policies_and_clocks_for_every_case():
    from satupintu.accounts.models import Client
    from satupintu.cases.models import Case
    from satupintu.demo import build

    build()
    assert SlaPolicy.objects.count() == 4 * Client.objects.count()
    bank = BusinessCalendar.objects.get(client__code="bank-nusantara")
    engine_cal = bank.to_engine([2026])
    assert engine_cal.is_open(wib(2026, 11, 21, 19, 59))  # Saturday evening
    assert not engine_cal.is_open(wib(2026, 11, 22, 10, 0))  # Sunday
    assert not engine_cal.is_open(wib(2026, 12, 25, 10, 0))  # Christmas
    market = BusinessCalendar.objects.get(client__code="pasar-kita").to_engine([2026])
    assert market.is_open(datetime(2026, 11, 23, 8, 30, tzinfo=WITA))
    assert not market.is_open(datetime(2026, 11, 23, 17, 30, tzinfo=WITA))
    assert CaseSla.objects.count() == Case.objects.count()
    assert CaseSla.objects.exclude(next_due=None).exists()
    # History is not replayed: the first job run only acts on what falls due from now on.
    built_at = CaseSla.objects.values_list("computed_at", flat=True).first()
    assert services.due_case_ids(built_at) == []


def test_recompute_command_applies_a_changed_policy(org, office, dewi):
    from io import StringIO

    from django.core.management import call_command

    case = _open(org, dewi, wib(2026, 11, 23, 8, 0))
    services.run_checks(wib(2026, 11, 23, 9, 50))  # first response warned (due 10:00)
    office.first_response_minutes = 240
    office.save()
    out = StringIO()
    call_command("recompute_sla", stdout=out)
    assert out.getvalue().strip() == "1"
    row = _sla(case)
    assert row.first_response_due == wib(2026, 11, 23, 12, 0)
    assert row.warned_keys == ["first_response"]  # what was reported stays reported
    # Its deadline is still ahead and its warning already recorded: next stop, 12:00.
    assert row.attention_at == wib(2026, 11, 23, 12, 0)
