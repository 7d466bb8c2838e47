"""Cached calendar building: holidays per span of years, engine calendars per policy."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from satupintu.engine.business_time import indonesian_holidays


@lru_cache(maxsize=32)
def holidays_for(years: tuple[int, ...]) -> frozenset[date]:
    """Indonesian public holidays of these years (the ``holidays`` package is slow-ish)."""
    return frozenset(indonesian_holidays(years))
