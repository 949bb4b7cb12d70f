"""The alert sender's simulation clock: which PPDB alerts a run sends (reference §3.2).

``-d MJD`` sends the unsent alerts whose source ``midpointtai <= MJD``. ``-a N`` advances the
clock by whole nights from where the last run stopped: from ``start_t`` (the latest sent
alert's time, or ``--start-day`` if later; with nothing sent, ``--start-day`` or one day before
the earliest alert) to ``floor(start_t + 0.5) + N + 0.5``; MJD x.5 is 12:00 UTC, morning in
Chile, so whole nights go out. ``--start-day``, if given, is also the lower bound of the
selection; without it every unsent alert up to the through-day is sent, including ones an
interrupted run left behind.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

_FROM = ("FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id "
         "JOIN elasticc2_ppdbdiaobject o ON o.diaobject_id = s.diaobject_id ")


class ClockError(ValueError):
    """The options do not define a window of simulated time."""


@dataclass(frozen=True)
class Window:
    """Send unsent alerts with ``start_day <= source midpointtai <= through_day`` (``start_day`` optional)."""

    start_day: float | None
    through_day: float
    start_t: float | None = None  # where the -a clock started (for the log)


def through_day_after(start_t: float, added_days: int) -> float:
    """The ``-a`` through-day: noon UTC (MJD x.5) ``added_days`` nights after ``start_t``'s night."""
    return math.floor(start_t + 0.5) + added_days + 0.5


def check_options(through_day: float | None, added_days: int | None, start_day: float | None) -> None:
    """Raise :class:`ClockError` unless exactly one of through_day / added_days is given, sensibly."""
    if (through_day is None) == (added_days is None):
        raise ClockError("give exactly one of -d/--through-day MJD and -a/--added-days N")
    if added_days is not None and added_days < 0:
        raise ClockError(f"-a/--added-days must be >= 0 (got {added_days})")
    for name, value in (("-d/--through-day", through_day), ("--start-day", start_day)):
        if value is not None and not math.isfinite(value):
            raise ClockError(f"{name} must be a finite MJD (got {value})")
    if through_day is not None and start_day is not None and start_day > through_day:
        raise ClockError(f"--start-day {start_day} is after -d/--through-day {through_day}: nothing to send")


def choose_window(through_day: float | None, added_days: int | None, start_day: float | None,
                  last_sent_mjd: float | None, first_alert_mjd: float | None) -> Window:
    """The window of a run, given the options and the state of the PPDB (pure function)."""
    check_options(through_day, added_days, start_day)
    if through_day is not None:
        return Window(start_day, float(through_day))
    if last_sent_mjd is not None:
        start_t = last_sent_mjd if start_day is None else max(last_sent_mjd, start_day)
    elif start_day is not None:
        start_t = start_day
    elif first_alert_mjd is not None:
        start_t = first_alert_mjd - 1.0
    else:
        raise ClockError("the PPDB has no alerts: nothing to send (load them with load_snana_fits)")
    return Window(start_day, through_day_after(start_t, added_days), start_t)


def window_from_db(through_day: float | None, added_days: int | None, start_day: float | None) -> Window:
    """:func:`choose_window` with the latest sent and the earliest alert times read from the PPDB."""
    check_options(through_day, added_days, start_day)
    last = first = None
    if added_days is not None:
        with connection.cursor() as cur:
            cur.execute("SELECT max(s.midpointtai) FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
                        "ON s.diasource_id = a.diasource_id WHERE a.alertsenttimestamp IS NOT NULL")
            last = cur.fetchone()[0]
            if last is None:
                cur.execute("SELECT min(s.midpointtai) FROM elasticc2_ppdbalert a "
                            "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id")
                first = cur.fetchone()[0]
    return choose_window(through_day, added_days, start_day, last, first)


def _where(window: Window) -> tuple[str, dict]:
    sql = "WHERE a.alertsenttimestamp IS NULL AND s.midpointtai <= %(through)s "
    params = {"through": window.through_day}
    if window.start_day is not None:
        sql += "AND s.midpointtai >= %(start)s "
        params["start"] = window.start_day
    return sql, params


def count_unsent(window: Window) -> int:
    """How many unsent alerts the window holds."""
    where, params = _where(window)
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) {_FROM} {where}", params)
        return cur.fetchone()[0]


def unsent_chunks(window: Window, size: int) -> Iterator[list[tuple[int, float, bool]]]:
    """The window's unsent alerts as ``(alert_id, midpointtai, isddf)`` chunks, in simulated-time order.

    Keyset pagination on (midpointtai, alert_id): each chunk is a short query, memory stays
    bounded whatever the window, and alerts marked meanwhile do not shift later chunks.
    """
    where, params = _where(window)
    last = None
    while True:
        sql = f"SELECT a.alert_id, s.midpointtai, o.isddf {_FROM} {where}"
        if last is not None:
            sql += ("AND s.midpointtai >= %(last_mjd)s "
                    "AND (s.midpointtai, a.alert_id) > (%(last_mjd)s, %(last_id)s) ")
            params.update(last_mjd=last[1], last_id=last[0])
        with connection.cursor() as cur:
            cur.execute(sql + "ORDER BY s.midpointtai, a.alert_id LIMIT %(size)s", {**params, "size": size})
            rows = cur.fetchall()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1]
