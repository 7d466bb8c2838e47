"""Per-client wallboard colours: the defaults are the old fixed rule, a saved threshold
changes the colour the board computes, bad input saves nothing, and only those who set up a
client's routing may change its colours."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from satupintu.accounts.models import Team, User
from satupintu.audit.models import AuditEntry
from satupintu.routing.models import ReasonCode, RoutingSettings
from satupintu.wallboard import kpis, services
from satupintu.wallboard.models import Thresholds
from satupintu.wallboard.tests.factories import DAY, Builder, at, presence, standard_day

END = at("00:00:00", DAY + timedelta(days=1)) - timedelta(microseconds=1)
URL = "/wallboard/colours/"

pytestmark = pytest.mark.django_db


def _old_level(seconds: float | None, limit: float | None) -> str:
    """The rule the board used before thresholds were settings (kpis._level, AMBER_SHARE)."""
    if seconds is None or not limit:
        return ""
    if seconds > limit:
        return "red"
    return "amber" if seconds >= 0.8 * limit else ""


def _old_sl(value: float | None, target: float) -> str:
    if value is None:
        return ""
    if value < target:
        return "red"
    return "amber" if value < target + 5.0 else ""


values = st.one_of(st.none(), st.floats(min_value=0, max_value=100_000, allow_nan=False))


@given(value=values, threshold=st.integers(0, 3600), target=st.integers(0, 100),
       acw=st.integers(0, 3600), minutes=st.integers(0, 120))
def test_default_thresholds_are_the_old_fixed_rule(value, threshold, target, acw, minutes):
    routing = RoutingSettings(sl_threshold_seconds=threshold, sl_target_percent=target,
                              acw_max_seconds=acw)
    limits = kpis.Limits.of(Thresholds(), routing)
    assert limits.longest_wait.level(value) == _old_level(value, threshold)
    assert limits.acw.level(value) == _old_level(value, acw)
    assert limits.break_band(minutes * 60.0).level(value) == _old_level(value, minutes * 60.0)
    assert limits.sl.level(value) == _old_sl(value, target)
    assert limits.waiting.level(value) == "" and limits.asa.level(value) == ""
    # the kept helpers say the same
    assert kpis.wait_level(value, threshold) == _old_level(value, threshold)
    assert kpis.sl_level(value, target) == _old_sl(value, target)


@given(amber=st.integers(0, 500), red=st.integers(0, 500), value=values)
def test_saved_band_is_amber_from_and_red_above(amber, red, value):
    limits = kpis.Limits.of(Thresholds(asa_amber_s=amber, asa_red_s=red), RoutingSettings())
    level = limits.asa.level(value)
    if value is None:
        assert level == ""
    elif value > red:
        assert level == "red"
    else:
        assert level == ("amber" if value >= amber else "")


@pytest.fixture
def day(org):
    items = standard_day(Builder(org.alpha, org.sam), org.alice)
    ReasonCode.objects.create(client=None, code="break", name_id="Istirahat",
                              name_en="Break", max_minutes=15)
    return items


def _clock(monkeypatch, when):
    monkeypatch.setattr(kpis, "_now", lambda: when)


def _cells(client) -> dict:
    data = client.get("/api/v1/wallboard/alpha/").json()
    return next(q for q in data["queues"] if q["code"] == "general")["cells"]


def _alice(client) -> dict:
    data = client.get("/api/v1/wallboard/alpha/").json()
    return next(a for t in data["teams"] for a in t["agents"] if a["username"] == "alice")


def _post(client, org, **values):
    data = {"client": org.alpha.pk, "break_amber_percent": 80, "break_red_grace_s": 0}
    data.update(values)
    return client.post(URL, {k: "" if v is None else v for k, v in data.items()})


def test_untouched_settings_keep_todays_colours(client, org, login, day, monkeypatch):
    login(client, org.sam)
    _clock(monkeypatch, END)
    before = _cells(client)
    # the end of the day: SL 28.6 % < 80 red, c6 waited 600 s > 20 s red, no colour elsewhere
    assert (before["sl"]["level"], before["longest_wait"]["level"]) == ("red", "red")
    assert before["waiting"]["level"] == before["asa"]["level"] == ""
    response = _post(client, org)  # the form as shown, every optional field empty
    assert response.status_code == 302
    assert Thresholds.objects.get(client=org.alpha).longest_wait_red_s is None
    assert _cells(client) == before


def test_saved_thresholds_change_the_board(client, org, login, day, monkeypatch):
    login(client, org.sam)
    _clock(monkeypatch, END)
    response = _post(client, org, waiting_amber=1, waiting_red=3, longest_wait_amber_s=500,
                     longest_wait_red_s=900, sl_amber_below="30", sl_red_below="25",
                     asa_amber_s=60, asa_red_s=90)
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?client={org.alpha.pk}"
    cells = _cells(client)
    assert cells["waiting"]["level"] == "amber"  # 1 waiting: amber from 1
    assert cells["longest_wait"]["level"] == "amber"  # 600 s: amber from 500, red above 900
    assert cells["sl"]["level"] == "amber"  # 28.6 %: above red 25, below amber 30
    assert cells["asa"]["level"] == "red"  # 101 s above 90
    page = client.get("/wallboard/").content.decode()
    assert 'class="num wb-amber" data-kpi="sl"' in page
    assert 'class="num wb-red" data-kpi="asa"' in page


def test_break_and_acw_thresholds_change_the_agent(client, org, login, day, monkeypatch):
    login(client, org.sam)
    _clock(monkeypatch, at("12:13:00"))  # 13 of a 15-minute break
    assert _alice(client)["fields"]["time"]["level"] == "amber"
    _post(client, org, break_amber_percent=90)  # amber from 13.5 minutes
    assert _alice(client)["fields"]["time"]["level"] == ""
    _clock(monkeypatch, at("12:20:00"))
    assert _alice(client)["fields"]["state"]["level"] == "red"
    _post(client, org, break_amber_percent=90, break_red_grace_s=600)  # red past 25 minutes
    assert _alice(client)["fields"]["state"]["level"] == "amber"
    presence(org.alice, ("acw", at("13:00:00"), ""))
    _clock(monkeypatch, at("13:01:50"))  # 110 s of ACW: amber from 96 s of the 120 s default
    assert _alice(client)["fields"]["time"]["level"] == "amber"
    _post(client, org, break_amber_percent=90, break_red_grace_s=600, acw_red_s=100)
    assert _alice(client)["fields"]["time"]["level"] == "red"


def test_report_and_csv_are_unchanged(client, org, login, day, monkeypatch):
    login(client, org.sam)
    _clock(monkeypatch, at("09:00:00", DAY + timedelta(days=1)))
    query = {"client": "alpha", "day": DAY.isoformat(), "format": "csv"}
    before = client.get("/wallboard/report/", query).content
    _post(client, org, waiting_red=0, asa_amber_s=1, asa_red_s=2, sl_red_below="10")
    assert client.get("/wallboard/report/", query).content == before


@pytest.mark.parametrize(("values", "message"), [
    ({"longest_wait_amber_s": 60, "longest_wait_red_s": 30},
     "Longest wait: amber from (seconds) (60) is above longest wait: red above (seconds) (30)"),
    ({"longest_wait_amber_s": 60},  # red empty: the 20-second service level threshold
     "Longest wait: amber from (seconds) (60) is above the red limit that applies while "
     "longest wait: red above (seconds) is empty (20)"),
    ({"sl_amber_below": "70", "sl_red_below": "75"},
     "Service level: amber below (%) (70) is below service level: red below (%) (75)"),
    ({"sl_amber_below": "70"},  # red empty: the 80 % target
     "Service level: amber below (%) (70) is below the service level target"),
    ({"waiting_amber": 5, "waiting_red": 2},
     "Waiting contacts: amber from (5) is above waiting contacts: red above (2)"),
])
def test_amber_worse_than_red_is_a_form_error(client, org, login, values, message):
    login(client, org.sam)
    with translation.override("en"):
        response = _post(client, org, **values)
    assert response.status_code == 200
    body = response.content.decode().replace("&#x27;", "'")
    assert 'class="form-error"' in body and message in body, body[-3000:]
    assert "amber must come before red" in body
    assert not Thresholds.objects.exists()
    assert not AuditEntry.objects.filter(action="wallboard.thresholds_changed").exists()


@pytest.mark.parametrize("values", [
    {"asa_red_s": -1}, {"waiting_amber": -3}, {"sl_red_below": "100.5"},
    {"sl_amber_below": "-1"}, {"break_amber_percent": 101}, {"break_red_grace_s": ""},
    {"sl_red_below": "abc"},
])
def test_negative_or_out_of_range_is_a_field_error(client, org, login, values):
    login(client, org.sam)
    with translation.override("en"):
        response = _post(client, org, **values)
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not Thresholds.objects.exists()


@pytest.mark.parametrize(("values", "message"), [
    ({"asa_red_s": -1}, "ASA: red above (seconds): enter a number of 0 or more."),
    ({"sl_red_below": Decimal("100.5")},
     "Service level: red below (%): enter a percentage from 0 to 100."),
    ({"break_amber_percent": 120},
     "Break: amber from (percent of the reason's longest break): enter a percentage from 0 "
     "to 100."),
    ({"break_red_grace_s": None},
     "Break: red this many seconds past the longest break: enter a value."),
    ({"acw_amber_s": 100, "acw_red_s": 50}, "amber must come before red"),
    ({"sl_red_below": Decimal("NaN")}, "Service level: red below (%): enter a number."),
    ({"waiting_red": "5"}, "Waiting contacts: red above: enter a number."),
])
def test_the_service_rejects_bad_values_naming_the_field(org, values, message):
    row = Thresholds.objects.create(client=org.alpha, asa_red_s=30)
    with translation.override("en"), pytest.raises(ValidationError) as err:
        services.save_thresholds(org.alpha, values, by=org.sam)
    assert any(message.lower() in m.lower() for m in err.value.messages), err.value.messages
    row.refresh_from_db()
    assert row.asa_red_s == 30 and row.acw_red_s is None and row.break_amber_percent == 80
    with pytest.raises(ValidationError):
        services.save_thresholds(org.bravo, values, by=org.sam)
    assert not Thresholds.objects.filter(client=org.bravo).exists()


def test_a_change_is_audited_once(org):
    services.save_thresholds(org.alpha, {"asa_red_s": 90}, by=org.sam)
    services.save_thresholds(org.alpha, {"asa_red_s": 90}, by=org.sam)  # no change
    services.save_thresholds(org.alpha, {"sl_red_below": Decimal("70")}, by=org.sam)
    entries = list(AuditEntry.objects.filter(action="wallboard.thresholds_changed")
                   .order_by("id"))
    assert [e.data for e in entries] == [{"asa_red_s": [None, 90]},
                                         {"sl_red_below": [None, "70.0"]}]
    assert {e.client_id for e in entries} == {org.alpha.pk}
    assert all(e.actor_id == org.sam.pk for e in entries)
    row = Thresholds.objects.get(client=org.alpha)
    assert row.updated_by == org.sam and row.sl_red_below == Decimal("70.0")


def test_open_boards_hear_of_a_change(org, monkeypatch, django_capture_on_commit_callbacks):
    from satupintu.cases import live

    sent: list[tuple[list[str], dict]] = []
    monkeypatch.setattr(live, "send_now", lambda groups, payload: sent.append((groups, payload)))
    with django_capture_on_commit_callbacks(execute=True):
        services.save_thresholds(org.alpha, {"waiting_red": 4}, by=org.sam)
    assert sent == [([f"wallboard.{org.alpha.pk}"], {"kind": "thresholds",
                                                     "client": org.alpha.pk})]
    with django_capture_on_commit_callbacks(execute=True):
        services.save_thresholds(org.alpha, {"waiting_red": 4}, by=org.sam)
    assert len(sent) == 1  # nothing changed, nothing sent


def test_page_shows_the_built_in_values(client, org, login):
    RoutingSettings.objects.create(client=org.alpha, sl_threshold_seconds=30,
                                   sl_target_percent=90, acw_max_seconds=200)
    login(client, org.sam)
    with translation.override("en"):
        page = client.get(URL)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="longest_wait_red_s"' in body and 'placeholder="30"' in body
    assert 'placeholder="24"' in body  # amber: 80 % of 30 s
    assert 'placeholder="90"' in body and 'placeholder="95"' in body  # SL red, amber
    assert 'placeholder="160"' in body  # ACW amber: 80 % of 200 s
    assert f'type="hidden" name="client" value="{org.alpha.pk}"' in body
    board = client.get("/wallboard/").content.decode()
    assert f'href="{URL}"' in board


def test_agents_team_leaders_and_viewers_are_refused(client, org, login):
    tl = User.objects.create_user(username="tina", password=org.password, role="team_leader",
                                  site=org.site, language="en")
    tl.clients.set([org.alpha])
    for user in (org.alice, tl, org.charlie):
        client.logout()
        login(client, user)
        assert client.get(URL).status_code == 403
        assert client.get(URL, {"client": org.alpha.pk}).status_code == 403
        assert _post(client, org, asa_red_s=5).status_code == 403
        if user is tl:
            assert f'href="{URL}"' not in client.get("/wallboard/").content.decode()
    assert not Thresholds.objects.exists()


def test_another_clients_supervisor_is_refused(client, org, login):
    vic = User.objects.create_user(username="vic", password=org.password, role="supervisor",
                                   site=org.site, language="en")
    vic.clients.set([org.bravo])
    Team.objects.filter(pk=org.team_b.pk).update(leader=vic)
    login(client, vic)
    assert client.get(URL, {"client": org.alpha.pk}).status_code == 403
    assert client.get(URL, {"client": "x"}).status_code == 403
    assert _post(client, org, asa_red_s=5).status_code == 403
    assert not Thresholds.objects.exists()
    own = client.get(URL)  # their own client by default
    assert own.status_code == 200 and "Bravo Telco" in own.content.decode()
    assert "Alpha Bank" not in own.content.decode()
    response = client.post(URL, {"client": org.bravo.pk, "break_amber_percent": 80,
                                 "break_red_grace_s": 0, "asa_red_s": 5})
    assert response.status_code == 302
    assert Thresholds.objects.get().client == org.bravo
