"""Load the Anonymous Bank call log (February 1999) into day x interval grids."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "anonymous-bank-1999-02.tsv"
START = dt.date(1999, 2, 1)
N_DAYS = 28


def data_path() -> Path:
    for cand in (DATA, Path("/work/shared/data/anonymous-bank-1999-02.tsv")):
        if cand.exists():
            return cand
    raise FileNotFoundError("anonymous-bank-1999-02.tsv not found under shared/data")


def _secs(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


@dataclass
class Call:
    day: int
    type: str
    arrival_s: int  # seconds after midnight when the call left the VRU (joined the queue)
    outcome: str
    wait_s: int
    service_s: int
    server: str
    service_start_s: int
    vru_line: str
    priority: str


def load_calls() -> list[Call]:
    calls = []
    with data_path().open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["outcome"] == "PHANTOM":
                continue
            d = dt.date(
                1900 + int(row["date"][:2]) if int(row["date"][:2]) > 50 else 2000,
                int(row["date"][2:4]),
                int(row["date"][4:6]),
            )
            calls.append(
                Call(
                    day=(d - START).days,
                    type=row["type"],
                    arrival_s=_secs(row["vru_exit"]),
                    outcome=row["outcome"],
                    wait_s=int(row["q_time"]),
                    service_s=int(row["ser_time"]),
                    server=row["server"],
                    service_start_s=_secs(row["ser_start"]),
                    vru_line=row["vru+line"],
                    priority=row["priority"],
                )
            )
    return calls


def offered(c: Call) -> bool:
    """Reached the queue: served, or abandoned after waiting (not hung up in the VRU)."""
    return c.outcome == "AGENT" or (c.outcome == "HANG" and c.wait_s > 0)


def grids(interval_minutes: int = 30, by: str = "type") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """key -> (calls grid, handle-seconds grid), N_DAYS x periods; 'ALL' for the total.

    ``by`` is ``type`` (service type), ``line`` (vru+line) or ``type_priority``."""
    periods = 24 * 60 // interval_minutes
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for c in load_calls():
        if not 0 <= c.day < N_DAYS or not offered(c):
            continue
        p = min(c.arrival_s // (interval_minutes * 60), periods - 1)
        key0 = {"type": c.type, "line": c.vru_line, "type_priority": f"{c.type}/{c.priority}"}[by]
        for key in (key0, "ALL"):
            g = out.setdefault(key, (np.zeros((N_DAYS, periods)), np.zeros((N_DAYS, periods))))
            g[0][c.day, p] += 1
            if c.outcome == "AGENT":
                g[1][c.day, p] += c.service_s
    return out
