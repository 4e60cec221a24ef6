"""Calendar primitives shared by the synthetic generator and the Complete Journey panel.

All functions are pure and work on ``numpy.datetime64[D]`` arrays.
"""
from __future__ import annotations

import datetime as dt

import numpy as np


def date_range(start: str, days: int) -> np.ndarray:
    """``days`` consecutive dates from ISO ``start`` as ``datetime64[D]``."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    return np.datetime64(start, "D") + np.arange(days)


def iso_dates(dates: np.ndarray) -> list[str]:
    """ISO strings (``YYYY-MM-DD``) of a ``datetime64[D]`` array."""
    return [str(d) for d in np.asarray(dates, dtype="datetime64[D]")]


def day_of_week(dates: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday (ISO order)."""
    # 1970-01-01 was a Thursday (weekday 3).
    return ((np.asarray(dates, dtype="datetime64[D]").astype(np.int64) + 3) % 7).astype(int)


def month(dates: np.ndarray) -> np.ndarray:
    """1 .. 12."""
    d = np.asarray(dates, dtype="datetime64[D]")
    return (d.astype("datetime64[M]").astype(int) % 12 + 1).astype(int)


def day_of_year(dates: np.ndarray) -> np.ndarray:
    """1 .. 366."""
    d = np.asarray(dates, dtype="datetime64[D]")
    return (d - d.astype("datetime64[Y]")).astype(int) + 1


def _nth_weekday(year: int, month_: int, weekday: int, n: int) -> dt.date:
    """n-th (1-based) ``weekday`` (0 = Monday) of a month; n = -1 gives the last one."""
    if n > 0:
        first = dt.date(year, month_, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + (month_ == 12), month_ % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def us_holidays(year: int) -> list[dt.date]:
    """US federal holidays of ``year`` (fixed dates not shifted to weekdays)."""
    return [
        dt.date(year, 1, 1), _nth_weekday(year, 1, 0, 3), _nth_weekday(year, 2, 0, 3),
        _nth_weekday(year, 5, 0, -1), dt.date(year, 6, 19), dt.date(year, 7, 4),
        _nth_weekday(year, 9, 0, 1), _nth_weekday(year, 10, 0, 2), dt.date(year, 11, 11),
        _nth_weekday(year, 11, 3, 4), dt.date(year, 12, 25),
    ]


def is_holiday(dates: np.ndarray) -> np.ndarray:
    """1 on US federal holidays, else 0."""
    d = np.asarray(dates, dtype="datetime64[D]")
    years = np.unique(d.astype("datetime64[Y]").astype(int) + 1970)
    hol = np.array([np.datetime64(h) for y in years for h in us_holidays(int(y))], dtype="datetime64[D]")
    return np.isin(d, hol).astype(int)


def is_weekend(dates: np.ndarray) -> np.ndarray:
    """1 on Saturday and Sunday."""
    return (day_of_week(dates) >= 5).astype(int)
