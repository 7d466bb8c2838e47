"""The day's figures against hand-computed expectations.

The standard day (WIB, 2 Nov 2026; queue "general"; threshold 20 s):

| contact | entered | outcome (today)        | wait | talk | ACW |
| c1      | 09:00   | answered 09:00:10      | 10   | 300  | 60  |
| c2      | 09:10   | answered 09:11:00      | 60   | 120  | 30  |
| c3      | 09:20   | abandoned 09:20:15     | 15   |      |     |
| c4      | 09:40   | abandoned 09:41:00     | 60   |      |     |
| c5      | 10:00   | answered 10:00:05      | 5    | 120  | 60  |
| c6      | 23:50   | still waiting at 24:00 | 600  |      |     |
| c7      | (prev)  | answered 00:00:30      | 330  | 120  | 0   |
| c8      | 11:00   | cancelled 11:00:30     | 30   |      |     |

Offered 7 (c7 entered yesterday), answered 4, abandoned 2, outcomes today 7 (c1–c5, c7, c8).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from satupintu.engine.kpi import SlFormula
from satupintu.routing.models import ReasonCode, RoutingSettings
from satupintu.wallboard import kpis
from satupintu.wallboard.tests.factories import DAY, Builder, at, standard_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(org):
    b = Builder(org.alpha, org.sam)
    items = standard_day(b, org.alice)
    ReasonCode.objects.create(client=None, code="break", name_id="Istirahat",
                              name_en="Break", max_minutes=15)
    return b, items


def _general(fig: kpis.DayFigures) -> kpis.QueueFigures:
    return next(q for q in fig.queues if q.code == "general")


def test_end_of_day_figures_by_hand(org, day):
    fig = kpis.day_figures(org.alpha, DAY, now=at("08:00:00", DAY + timedelta(days=2)))
    assert fig.complete and fig.as_of == at("00:00:00", DAY + timedelta(days=1))
    q = _general(fig)
    assert (q.offered, q.answered, q.abandoned) == (7, 4, 2)
    assert q.asa == pytest.approx((10 + 60 + 5 + 330) / 4)
    assert q.aht == pytest.approx((360 + 150 + 180 + 120) / 4)
    # default formula: answered within 20 s / offered (every outcome, cancelled included)
    assert fig.settings.formula == SlFormula.OFFERED
    assert q.sl == pytest.approx(100 * 2 / 7)
    assert q.abandon_rate == pytest.approx(100 * 2 / 7)
    assert q.waiting == 1 and q.longest_wait == pytest.approx(600)


@pytest.mark.parametrize(("formula", "expected"), [
    ("answered", 100 * 2 / 4),          # c1, c5 within 20 s of 4 answered
    ("asterisk_sl2", 100 * 3 / 6),      # + c3 abandoned within 20 s, over answered+abandoned
    ("offered", 100 * 2 / 7),
    ("answered_over_offered", 100 * 2 / 7),
])
def test_service_level_follows_the_client_formula(org, day, formula, expected):
    RoutingSettings.objects.create(client=org.alpha, sl_formula=formula, sl_threshold_seconds=20)
    fig = kpis.day_figures(org.alpha, DAY, now=at("23:59:59"))
    assert _general(fig).sl == pytest.approx(expected)


def test_threshold_setting_changes_service_level(org, day):
    RoutingSettings.objects.create(client=org.alpha, sl_formula="answered",
                                   sl_threshold_seconds=60)
    fig = kpis.day_figures(org.alpha, DAY, now=at("23:59:59"))
    assert _general(fig).sl == pytest.approx(75.0)  # 10, 60, 5 ≤ 60 (60 counts), not 330


def test_day_so_far(org, day):
    fig = kpis.day_figures(org.alpha, DAY, now=at("09:30:00"))
    q = _general(fig)
    assert (q.offered, q.answered, q.abandoned, q.waiting) == (3, 3, 1, 0)
    assert q.aht == pytest.approx((360 + 150 + 120) / 3)
    fig = kpis.day_figures(org.alpha, DAY, now=at("09:40:30"))
    q = _general(fig)
    assert q.waiting == 1 and q.longest_wait == pytest.approx(30)
    alice = fig.teams[0].agents[0]
    assert alice.username == "alice" and alice.state == "ready"
    assert alice.time_in_state == pytest.approx(45 * 60 + 30)


def test_intervals_add_up_to_the_day(org, day):
    fig = kpis.day_figures(org.alpha, DAY, now=at("08:00:00", DAY + timedelta(days=1)),
                           intervals=True)
    assert len(fig.intervals) == 48
    q = _general(fig)
    slots = [next(x for x in s.queues if x.code == "general") for s in fig.intervals]
    assert sum(s.offered for s in slots) == q.offered
    assert sum(s.answered for s in slots) == q.answered
    assert sum(s.abandoned for s in slots) == q.abandoned
    nine = slots[18]  # 09:00–09:30: c1, c2 answered, c3 abandoned
    assert fig.intervals[18].start == at("09:00:00")
    assert (nine.offered, nine.answered, nine.abandoned) == (3, 2, 1)
    assert nine.asa == pytest.approx(35)


def test_break_overrun_and_occupancy(org, day):
    fig = kpis.day_figures(org.alpha, DAY, now=at("12:13:00"))
    alice = fig.teams[0].agents[0]
    assert (alice.state, alice.reason_code, alice.level) == ("not_ready", "break", "amber")
    fig = kpis.day_figures(org.alpha, DAY, now=at("12:20:00"))
    alice = fig.teams[0].agents[0]
    assert alice.level == "red" and alice.limit_s == 15 * 60
    assert fig.teams[0].counts["not_ready"] == 1
    fig = kpis.day_figures(org.alpha, DAY, now=at("08:00:00", DAY + timedelta(days=1)))
    handle = 360 + 150 + 180 + 120  # c7 handled after midnight while logged out counts too
    ready = (3 * 3600 + 5 * 60) + 4.5 * 3600
    idle = ready - (360 + 150 + 180)
    assert fig.teams[0].occupancy == pytest.approx(100 * handle / (handle + idle))
    assert fig.teams[0].agents[0].state == "logged_out"


def test_acw_too_long(org, day):
    from satupintu.wallboard.tests.factories import presence

    RoutingSettings.objects.create(client=org.alpha, acw_max_seconds=60)
    presence(org.alice, ("acw", at("13:00:00"), ""))
    fig = kpis.day_figures(org.alpha, DAY, now=at("13:00:50"))
    assert fig.teams[0].agents[0].level == "amber"
    fig = kpis.day_figures(org.alpha, DAY, now=at("13:01:01"))
    assert fig.teams[0].agents[0].level == "red"


def test_busy_and_offered_states(org):
    from satupintu.wallboard.tests.factories import K, presence

    b = Builder(org.alpha, org.sam)
    presence(org.alice, ("ready", at("08:00:00"), ""))
    b.item("general", [(K.ENQUEUED, at("09:00:00"), None), (K.OFFERED, at("09:00:02"), org.alice)])
    fig = kpis.day_figures(org.alpha, DAY, now=at("09:00:10"))
    assert fig.teams[0].agents[0].state == "offered"
    b.item("general", [(K.ENQUEUED, at("09:01:00"), None),
                       (K.ACCEPTED, at("09:01:02"), org.alice)])
    fig = kpis.day_figures(org.alpha, DAY, now=at("09:02:00"))
    alice = fig.teams[0].agents[0]
    assert (alice.state, alice.contacts, alice.offers) == ("busy", 1, 1)
    q = _general(fig)
    assert q.waiting == 1  # the offered one still waits for an answer


def test_other_clients_are_not_counted(org, day):
    from satupintu.wallboard.tests.factories import K

    b = Builder(org.bravo, org.root)

    b.item("general", [(K.ENQUEUED, at("09:00:00"), None), (K.ABANDONED, at("09:00:30"), None)])
    fig = kpis.day_figures(org.alpha, DAY, now=at("23:00:00"))
    assert _general(fig).offered == 6  # c6 enters at 23:50
    bravo = kpis.day_figures(org.bravo, DAY, now=at("23:00:00"))
    assert [(q.code, q.offered, q.abandoned) for q in bravo.queues] == [("general", 1, 1)]
    assert [t.name for t in bravo.teams] == ["Team Bravo"]


def test_site_time_zone_sets_the_day(org, day):
    org.site.timezone = "Asia/Jayapura"  # WIT, two hours ahead of WIB
    org.site.save()
    fig = kpis.day_figures(org.alpha, DAY, now=at("08:00:00", DAY + timedelta(days=2)))
    # WIT day = WIB 22:00 the day before .. 22:00: c6 (23:50 WIB) falls on the next day
    assert fig.start == at("22:00:00", DAY - timedelta(days=1))
    q = _general(fig)
    assert q.offered == 7  # c7 (23:55 WIB the day before) now enters on this day, c6 leaves
    assert q.waiting == 0
