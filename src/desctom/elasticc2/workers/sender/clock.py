"""The alert sender's simulation clock: which PPDB alerts a run sends (reference §3.2).

``-d MJD`` sends the unsent alerts whose source ``midpointtai <= MJD``. ``-a N`` advances the
clock by whole nights from where the last run stopped: from ``start_t`` (the latest sent
alert's time, or ``--start-day`` if later; with nothing sent, ``--start-day`` or one day before
the earliest alert) to ``floor(start_t + 0.5) + N + 0.5``; MJD x.5 is 12:00 UTC, morning in
Chile, so whole nights go out. ``--start-day``, if given, is also the lower bound of the
selection; without it every unsent alert up to the through-day is sent, including ones an
interrupted run left behind.

The latest sent alert's time costs index probes, not a join of every sent alert
(:func:`last_sent_mjd`): each run records the latest time it marked (``AlertSenderRun.last_mjd``,
in the transaction that marks), alerts marked since the latest run began are read through the
``alertsenttimestamp`` index, and the result is checked against the PPDB through the
``midpointtai`` index. Alerts marked sent by hand (SQL) before the latest run began, later than
anything a run sent, are not seen; with no run recorded the full join is used.
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


#: With ``-a``, unsent alerts up to this many days before the latest sent one still go out (those a
#: failed run left between acknowledged ones); older ones need ``-d`` or ``--start-day``.
LEFTOVER_DAYS = 1.0


@dataclass(frozen=True)
class Window:
    """Send unsent alerts with ``lower <= source midpointtai <= through_day``.

    ``start_day`` is the ``--start-day`` option; ``since`` the lower bound an ``-a`` clock adds (the
    latest sent alert's time minus :data:`LEFTOVER_DAYS`), so that a night's selection reads that night
    through the ``midpointtai`` index, not every alert ever sent.
    """

    start_day: float | None
    through_day: float
    start_t: float | None = None  # where the -a clock started (for the log)
    since: float | None = None

    @property
    def lower(self) -> float | None:
        """The selection's lower bound of source ``midpointtai`` (None: none)."""
        bounds = [b for b in (self.start_day, self.since) if b is not None]
        return max(bounds) if bounds else None


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
    return Window(start_day, through_day_after(start_t, added_days), start_t, start_t - LEFTOVER_DAYS)


#: The latest recorded run's start (a margin for clocks), and the latest time any run marked.
_RUNS = ("SELECT max(started) - interval '5 minutes', max(last_mjd) FROM elasticc2_alertsenderrun "
         "WHERE status <> 'dryrun'")
#: The latest time of the alerts marked since then (through the alertsenttimestamp index).
_RECENT = ("SELECT max(s.midpointtai) FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
           "ON s.diasource_id = a.diasource_id WHERE a.alertsenttimestamp >= %s")
#: The runs' recorded times, latest first: lower bounds to try when the upper one is no longer sent.
_RECORDED = ("SELECT DISTINCT last_mjd FROM elasticc2_alertsenderrun WHERE status <> 'dryrun' "
             "AND last_mjd < %s ORDER BY last_mjd DESC LIMIT 20")
#: The latest sent alert's time within [low, high] (through the midpointtai index).
_BETWEEN = ("SELECT max(s.midpointtai) FROM elasticc2_ppdbdiasource s JOIN elasticc2_ppdbalert a "
            "ON a.diasource_id = s.diasource_id "
            "WHERE s.midpointtai BETWEEN %s AND %s AND a.alertsenttimestamp IS NOT NULL")
#: The same over every alert: a join of every sent alert to its source (when nothing is recorded).
_ALL = ("SELECT max(s.midpointtai) FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
        "ON s.diasource_id = a.diasource_id WHERE a.alertsenttimestamp IS NOT NULL")


def last_sent_mjd(cur) -> float | None:
    """The latest ``midpointtai`` of a sent alert, by index probes where the runs' record allows.

    Upper bound: the runs' latest recorded time or that of an alert marked since the latest run
    began. If an alert at that time is still sent, that is the answer; else (alerts unmarked since)
    the latest sent one between the best recorded time still sent and the bound; else the full join.
    """
    cur.execute(_RUNS)
    since, recorded = cur.fetchone()
    if since is None:
        cur.execute(_ALL)
        return cur.fetchone()[0]
    cur.execute(_RECENT, [since])
    recent = cur.fetchone()[0]
    high = max((t for t in (recorded, recent) if t is not None), default=None)
    if high is None:
        cur.execute(_ALL)
        return cur.fetchone()[0]
    cur.execute(_RECORDED, [high])
    for low in [high] + [r[0] for r in cur.fetchall()]:
        cur.execute(_BETWEEN, [low, low])
        if cur.fetchone()[0] is not None:  # a sent alert at `low`: the answer is in [low, high]
            cur.execute(_BETWEEN, [low, high])
            return cur.fetchone()[0]
    cur.execute(_ALL)
    return cur.fetchone()[0]


def window_from_db(through_day: float | None, added_days: int | None, start_day: float | None) -> Window:
    """:func:`choose_window` with the latest sent and the earliest alert times read from the PPDB."""
    check_options(through_day, added_days, start_day)
    last = first = None
    if added_days is not None:
        with connection.cursor() as cur:
            last = last_sent_mjd(cur)
            if last is None:
                cur.execute("SELECT min(s.midpointtai) FROM elasticc2_ppdbalert a "
                            "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id")
                first = cur.fetchone()[0]
    return choose_window(through_day, added_days, start_day, last, first)


def _where(window: Window) -> tuple[str, dict]:
    sql = "WHERE a.alertsenttimestamp IS NULL AND s.midpointtai <= %(through)s "
    params = {"through": window.through_day}
    if window.lower is not None:
        sql += "AND s.midpointtai >= %(start)s "
        params["start"] = window.lower
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
