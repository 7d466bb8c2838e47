"""The planner's commands: ``satupintu erlang`` and ``satupintu staffing``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from django.utils import translation

from satupintu.commands import erlang, staffing


def call(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="satupintu")
    sub = parser.add_subparsers()
    erlang.register(sub)
    staffing.register(sub)
    try:
        schedule_mod = __import__("satupintu.commands.schedule", fromlist=["register"])
        schedule_mod.register(sub)
    except ImportError:  # pragma: no cover
        pass
    args = parser.parse_args(argv)
    with translation.override("en"):
        rc: int = args.func(args)
    return rc


BASE = ["erlang", "--calls", "100", "--interval", "1800", "--aht", "180"]


def test_erlang_c_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert call([*BASE, "--sl-target", "0.8", "--shrinkage", "0.3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["agents"] == 14
    assert data["scheduled"] == 20
    assert round(data["p_wait"], 4) == 0.1741
    assert round(data["sl"], 4) == 0.8884
    assert round(data["asa_s"], 2) == 7.84
    assert round(data["occupancy"], 4) == 0.7143
    assert "p_abandon" not in data


def test_erlang_a_json_and_formula(capsys: pytest.CaptureFixture[str]) -> None:
    assert call([*BASE, "--sl-target", "0.8", "--patience", "180", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["agents"] == 12
    assert data["sl_over_offered"] >= 0.8
    assert 0 < data["p_abandon"] < 0.1
    assert {"asa_s", "mean_wait_s", "occupancy", "p_wait", "scheduled"} <= data.keys()
    assert (
        call(
            [
                *BASE,
                "--sl-target",
                "0.8",
                "--patience",
                "180",
                "--sl-formula",
                "over_answered",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["agents"] <= 12


def test_erlang_agents_table_and_other_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert call([*BASE, "--agents", "13"]) == 0
    out = capsys.readouterr().out
    assert "0.2853" in out and "Erlang C" in out
    assert call([*BASE, "--asa-target", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agents"] == 14
    assert call([*BASE, "--max-p-wait", "0.2", "--max-occupancy", "0.7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agents"] == 15
    assert call([*BASE, "--agents", "9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["asa_s"] is None


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        (["--sl-target", "1.2"], "--sl-target"),
        (["--sl-target", "0"], "--sl-target"),
        (["--agents", "3", "--sl-target", "0.8"], "--agents"),
        ([], "--agents"),
        (["--sl-target", "0.8", "--max-abandon", "0.1"], "--patience"),
        (["--sl-target", "0.8", "--shrinkage", "1"], "--shrinkage"),
        (["--sl-target", "0.8", "--patience", "0"], "--patience"),
    ],
)
def test_erlang_bad_input_exit_2(
    extra: list[str], word: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert call([*BASE, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert word in err and "\n" not in err


def test_erlang_bad_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        call(
            ["erlang", "--calls", "-5", "--interval", "1800", "--aht", "180", "--sl-target", "0.8"]
        )
        == 2
    )
    assert "--calls" in capsys.readouterr().err
    assert (
        call(
            ["erlang", "--calls", "nan", "--interval", "1800", "--aht", "180", "--sl-target", "0.8"]
        )
        == 2
    )
    assert (
        call(["erlang", "--calls", "10", "--interval", "1800", "--aht", "0", "--agents", "3"]) == 2
    )
    assert "--aht" in capsys.readouterr().err


def test_staffing_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "volumes.csv"
    f.write_text(
        "interval,queue,calls,aht_s\n08:00,billing,100,180\n08:30,billing,0,180\n"
        "08:00,tech,250,300\n",
        encoding="utf-8",
    )
    assert call(["staffing", str(f), "--format", "json", "--shrinkage", "0.3"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["agents"] for r in rows] == [14, 0, 0 + rows[2]["agents"]]
    assert rows[0]["scheduled"] == 20 and rows[0]["queue"] == "billing"
    assert rows[2]["agents"] > 250 * 300 / 1800
    assert call(["staffing", str(f), "--patience", "120", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("p_abandon")
    assert call(["staffing", str(f)]) == 0
    assert "billing" in capsys.readouterr().out


def test_staffing_bad_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("calls,aht_s\n10,180\n-3,180\n", encoding="utf-8")
    assert call(["staffing", str(f)]) == 2
    assert "line 3" in capsys.readouterr().err
    f.write_text("calls,aht_s\n10,0\n", encoding="utf-8")
    assert call(["staffing", str(f)]) == 2
    assert "aht_s" in capsys.readouterr().err
    f.write_text("calls\n10\n", encoding="utf-8")
    assert call(["staffing", str(f)]) == 2
    assert call(["staffing", str(tmp_path / "missing.csv")]) == 2
    assert call(["staffing", str(f), "--aht", "200", "--format", "json"]) == 0


def _schedule_files(tmp_path: Path) -> tuple[Path, Path]:
    req = tmp_path / "req.csv"
    lines = ["day,time,required"]
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        for hour in range(8, 20):
            lines.append(f"{day},{hour:02d}:00,{3 if day not in ('Sat', 'Sun') else 1}")
            lines.append(f"{day},{hour:02d}:30,{3 if day not in ('Sat', 'Sun') else 1}")
    req.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tpl = tmp_path / "shifts.csv"
    tpl.write_text(
        "name,start,length_minutes,days,break_minutes,break_earliest_minutes,break_latest_minutes\n"
        "early,08:00,360,,,,\n"
        "late,14:00,360,Mon-Sun,,,\n"
        "long,08:00,720,Mon-Fri,60,180,300\n",
        encoding="utf-8",
    )
    return req, tpl


def test_schedule_from_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req, tpl = _schedule_files(tmp_path)
    assert (
        call(["schedule", str(req), "--templates", str(tpl), "--json", "--cost-weight", "0"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["optimal"] is True
    assert data["under"] == 0 and data["over"] == 0
    assert sum(s["count"] for s in data["shifts"] if s["day"] == "Mon") >= 3
    assert all(c["required"] == c["scheduled"] for c in data["coverage"])
    assert call(["schedule", str(req), "--templates", str(tpl), "--work-days", "5"]) == 0
    out = capsys.readouterr().out
    assert "headcount" in out and "Mon" in out


def test_schedule_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req, tpl = _schedule_files(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,start,length_minutes\nnight,22:00,abc\n", encoding="utf-8")
    assert call(["schedule", str(req), "--templates", str(bad)]) == 2
    assert "length_minutes" in capsys.readouterr().err
    only_late = tmp_path / "late.csv"
    only_late.write_text("name,start,length_minutes\nlate,14:00,360\n", encoding="utf-8")
    assert call(["schedule", str(req), "--templates", str(only_late)]) == 2
    err = capsys.readouterr().err
    assert "Mon 08:00" in err and "\n" not in err.strip()
    req.write_text("day,time,required\nFunday,08:00,1\n", encoding="utf-8")
    assert call(["schedule", str(req), "--templates", str(tpl)]) == 2
    assert "Funday" in capsys.readouterr().err


def test_erlang_speaks_indonesian(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="satupintu")
    erlang.register(parser.add_subparsers())
    args = parser.parse_args([*BASE, "--sl-target", "1.5"])
    with translation.override("id"):
        assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "--sl-target" in err
