"""``satupintu roster AGENTS.csv SHIFTS.csv``."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import pytest
from django.utils import translation

from satupintu.commands import roster

EXAMPLES = Path(__file__).resolve().parents[2] / "engine" / "examples"
AGENTS = str(EXAMPLES / "roster_agents.csv")
SHIFTS = str(EXAMPLES / "roster_shifts.csv")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def call(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="satupintu")
    roster.register(parser.add_subparsers())
    args = parser.parse_args(["roster", *argv])
    with translation.override("en"):
        rc: int = args.func(args)
    return rc


def minutes(clock: str) -> int:
    hh, mm = clock.split(":")
    return int(hh) * 60 + int(mm)


def test_example_roster_respects_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert call([AGENTS, SHIFTS, "--week-start", "2026-11-23", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["optimal"] and data["unfilled"] == []
    got = data["assignments"]
    assert len(got) == 5 * 5 + 2 * 3  # every shift of the week is staffed
    by_agent: dict[str, list[dict[str, str]]] = {}
    for a in got:
        by_agent.setdefault(a["agent"], []).append(a)
    # availability, leave, skills and per-interval availability
    assert not any(a["day"] in ("Sat", "Sun") for a in by_agent.get("Budi", []))
    assert not any(a["date"] == "2026-11-25" for a in by_agent.get("Citra", []))
    assert not any(a["day"] in ("Mon", "Tue") for a in by_agent.get("Fajar", []))
    assert all(a["shift"] != "night" for a in by_agent.get("Citra", []))  # 06:00-22:00
    assert all(a["shift"] != "night" for a in by_agent.get("Gita", []))  # ends 23:00
    for a in got:
        if a["shift"] == "late":
            assert a["agent"] in {"Ani", "Budi", "Citra", "Eko", "Gita"}  # billing
    for name, shifts in by_agent.items():
        days = sorted(DAYS.index(a["day"]) for a in shifts)
        assert len(days) == len(set(days))  # one shift a day
        hours = data["hours_by_agent"][name]
        assert hours <= 40 + 18
        # 8 paid hours a day: the five-day regime, at most five days
        if any(a["shift"] != "night" for a in shifts):
            assert len(days) <= 5 or all(a["shift"] == "night" for a in shifts)
        # at least 11 h between the end of one shift and the start of the next
        spans = sorted(
            (
                DAYS.index(a["day"]) * 1440 + minutes(a["start"]),
                DAYS.index(a["day"]) * 1440
                + minutes(a["start"])
                + (minutes(a["end"]) - minutes(a["start"])) % 1440,
            )
            for a in shifts
        )
        for (_s0, e0), (s1, _e1) in itertools.pairwise(spans):
            assert s1 - e0 >= 11 * 60
    # weekend fairness: 6 weekend shifts among 8 agents, nobody gets more than 1
    assert max(data["weekend_shifts_by_agent"].values()) <= 1


def test_text_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert call([AGENTS, SHIFTS, "--week-start", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "status: optimal" in out
    citra = next(line for line in out.splitlines() if line.startswith("Citra"))
    assert "leave" in citra


def _write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_infeasible_names_the_binding_constraint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shifts = _write(
        tmp_path,
        "s.csv",
        "day,shift,start,length_minutes,skills\nMon,tech,08:00,480,tech\n",
    )
    agents = _write(tmp_path, "a.csv", "name,skills\nani,billing\n")
    assert call([agents, shifts]) == 2
    err = capsys.readouterr().err
    assert "binding constraint is skills" in err
    # the same roster reports the unfilled shift when asked to
    assert call([agents, shifts, "--allow-unfilled", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unfilled"] == [
        {"day": "Mon", "shift": "tech", "count": 1}
    ]


def test_rest_and_overtime_are_configurable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shifts = _write(
        tmp_path,
        "s.csv",
        "day,shift,start,length_minutes\nMon,late,15:00,420\nTue,early,06:00,420\n",
    )
    agents = _write(tmp_path, "a.csv", "name\nani\n")
    assert call([agents, shifts]) == 2  # 22:00 -> 06:00 is 8 h of rest
    assert "rest" in capsys.readouterr().err
    assert call([agents, shifts, "--min-rest-hours", "8", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["assignments"]) == 2
    # seven 7-hour days: 49 h fits 40 + 18 overtime but not the six-day rule
    week = "day,shift,start,length_minutes\n" + "".join(f"{d},day,08:00,420\n" for d in DAYS)
    assert call([agents, _write(tmp_path, "w.csv", week)]) == 2
    assert "days" in capsys.readouterr().err


def test_leave_by_date_and_availability_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shifts = _write(
        tmp_path,
        "s.csv",
        "day,shift,start,length_minutes,count\n2026-11-24,early,07:00,480,1\n"
        "2026-11-24,late,14:00,480,1\n",
    )
    agents = _write(
        tmp_path,
        "a.csv",
        "name,leave,available_hours\nani,,Tue 06:00-15:00\nbudi,,\ncitra,2026-11-24,\n",
    )
    assert call([agents, shifts, "--week-start", "2026-11-23", "--json"]) == 0
    got = {a["shift"]: a["agent"] for a in json.loads(capsys.readouterr().out)["assignments"]}
    assert got == {"early": "ani", "late": "budi"}


@pytest.mark.parametrize(
    ("agents_csv", "shifts_csv", "extra", "word"),
    [
        (
            "name\nani\n",
            "day,shift,start,length_minutes\n2026-11-24,a,08:00,480\n",
            [],
            "--week-start",
        ),
        (
            "name\nani\n",
            "day,shift,start,length_minutes\nMon,a,08:00,480\n",
            ["--week-start", "2026-11-24"],
            "Monday",
        ),
        (
            "name,preferences\nani,zzz:1\n",
            "day,shift,start,length_minutes\nMon,a,08:00,480\n",
            [],
            "zzz",
        ),
        ("name\nani\nani\n", "day,shift,start,length_minutes\nMon,a,08:00,480\n", [], "twice"),
        ("name\nani\n", "day,shift,start,length_minutes\nMon,a,08:10,480\n", [], "multiples"),
        (
            "name,available_hours\nani,Mon 8-17\n",
            "day,shift,start,length_minutes\nMon,a,08:00,480\n",
            [],
            "available_hours",
        ),
    ],
)
def test_bad_input_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    agents_csv: str,
    shifts_csv: str,
    extra: list[str],
    word: str,
) -> None:
    a = _write(tmp_path, "a.csv", agents_csv)
    s = _write(tmp_path, "s.csv", shifts_csv)
    assert call([a, s, *extra]) == 2
    assert word in capsys.readouterr().err
