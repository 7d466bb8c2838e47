"""``satupintu simulate``: the quick form, scenario files, bad input (exit code 2)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "simulate" / "examples" / "bank-day.yaml"


@pytest.fixture(scope="module")
def cli() -> argparse.ArgumentParser:
    # The command translates its messages, so Django is set up the way the CLI does it
    # (through satupintu.cli: the engine itself never imports Django).
    from satupintu.cli import setup_django

    setup_django()
    from satupintu.commands import simulate

    parser = argparse.ArgumentParser(prog="satupintu")
    simulate.register(parser.add_subparsers())
    return parser


def call(parser: argparse.ArgumentParser, *argv: str) -> int:
    args = parser.parse_args(["simulate", *argv])
    rc: int = args.func(args)
    return rc


def test_quick_form_json(cli: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]) -> None:
    rc = call(
        cli,
        "--calls",
        "120",
        "--interval",
        "1800",
        "--aht",
        "180",
        "--agents",
        "14",
        "--patience",
        "60",
        "--customers",
        "20000",
        "--seed",
        "3",
        "--json",
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "sl",
        "sl_over_offered",
        "p_wait",
        "p_abandon",
        "asa_s",
        "customers",
        "customers_per_s",
    ):
        assert key in out
    assert out["customers"] == 20000
    assert 0 < out["p_abandon"] < 1 and 0 < out["sl"] <= 1
    assert out["sl_over_offered"] <= out["sl"]


def test_quick_form_text(cli: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        call(
            cli,
            "--calls",
            "10",
            "--interval",
            "300",
            "--aht",
            "240",
            "--agents",
            "10",
            "--customers",
            "5000",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "20 s" in out or "20 dtk" in out  # English or Indonesian (the default language)


def test_scenario_table_and_csv(
    cli: argparse.ArgumentParser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_csv = tmp_path / "t.csv"
    assert call(cli, str(EXAMPLE), "--replications", "2", "--csv", str(out_csv)) == 0
    text = capsys.readouterr().out
    assert "billing" in text and "07:00" in text
    lines = out_csv.read_text().splitlines()
    assert lines[0].startswith("interval,queue,offered,offered_ci95")
    assert len(lines) == 1 + 24 * 4


@pytest.mark.parametrize(
    "argv",
    [
        ["--calls", "10", "--interval", "300", "--aht", "300"],
        ["--calls", "-1", "--interval", "300", "--aht", "300", "--agents", "3"],
        ["--calls", "30", "--interval", "300", "--aht", "300", "--agents", "3"],
        ["--calls", "3", "--interval", "300", "--aht", "300", "--agents", "5", "--patience", "-4"],
        [str(EXAMPLE), "--agents", "4"],
        ["/nonexistent.yaml"],
    ],
)
def test_bad_input_exit_2(
    cli: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert call(cli, *argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("simulate: ") and "\n" not in err


def test_bad_scenario_file(
    cli: argparse.ArgumentParser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("arrivals: 30", "arrivals: -30"))
    assert call(cli, str(bad)) == 2
    assert "queue 'cards': arrivals" in capsys.readouterr().err
