"""The campaign's clock: what "now" is for defaults that count back from it.

In a simulated campaign the survey's time is the simulation clock, the MJD of the latest alert
the sender sent (or, with no sender run recorded, the latest detection the TOM knows); the wall
clock is years later and a window counted back from it is empty. In a live survey it is the
wall clock. ``DESCTOM_CLOCK`` chooses: ``auto`` (default: the simulation clock once the campaign
has one, else the wall clock), ``simulation`` or ``wall``.

The same answer serves ``GET /elasticc2/clock``, ``desctom status`` and the defaults of
``gethottransients`` and ``spectrawanted``. :func:`read_clock` works on any DB-API cursor (the
CLI reads it without Django); :func:`campaign_clock` on Django's connection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desctom.survey.mjd import MJD_EPOCH

#: Where the simulation clock comes from, in order of preference.
SENDER_SQL = "SELECT max(last_mjd) FROM elasticc2_alertsenderrun WHERE status <> 'dryrun'"
DETECTIONS_SQL = "SELECT max(midpointtai) FROM elasticc2_diasource"


def mjd_of(when: dt.datetime) -> float:
    """The MJD of an aware datetime."""
    return (when - MJD_EPOCH).total_seconds() / 86400.0


def datetime_of(mjd: float) -> dt.datetime:
    """The aware UTC datetime of an MJD."""
    return MJD_EPOCH + dt.timedelta(days=mjd)


@dataclass(frozen=True)
class CampaignClock:
    """``mjd`` is "now" for the campaign; ``mode`` says which clock it is and ``source`` where it
    was read (``sender``: the latest sent alert; ``detections``: the latest known detection;
    ``wall``: the system's clock)."""

    mode: str
    mjd: float
    source: str
    setting: str
    simulation_mjd: float | None
    wall_mjd: float

    def as_json(self) -> dict:
        return {"mode": self.mode, "mjd": self.mjd, "utc": datetime_of(self.mjd).isoformat(),
                "source": self.source, "setting": self.setting,
                "simulation_mjd": self.simulation_mjd, "wall_mjd": self.wall_mjd}


def _scalar(cursor, sql: str):
    cursor.execute(sql)
    row = cursor.fetchone()
    return None if row is None else row[0]


def read_clock(cursor, setting: str = "auto", now: dt.datetime | None = None) -> CampaignClock:
    """The campaign's clock read with ``cursor`` under the ``DESCTOM_CLOCK`` ``setting``."""
    wall = mjd_of(now or dt.datetime.now(dt.UTC))
    simulated, source = _scalar(cursor, SENDER_SQL), "sender"
    if simulated is None:
        simulated, source = _scalar(cursor, DETECTIONS_SQL), "detections"
    simulated = None if simulated is None else float(simulated)
    if setting == "wall" or simulated is None:
        # a "simulation" setting with nothing simulated yet has no other "now" than the wall clock
        return CampaignClock("wall", wall, "wall", setting, simulated, wall)
    return CampaignClock("simulation", simulated, source, setting, simulated, wall)


def campaign_clock() -> CampaignClock:
    """The campaign's clock on Django's connection, under the configured ``DESCTOM_CLOCK``."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        return read_clock(cursor, settings.CFG.clock)


def campaign_now_mjd() -> float:
    """"Now" as an MJD for the defaults of the follow-up endpoints."""
    return campaign_clock().mjd


def simulation_clock() -> float | None:
    """MJD of the latest sent alert: the sender's record, else the latest detection the TOM knows."""
    from django.db import connection

    with connection.cursor() as cursor:
        return read_clock(cursor, "simulation").simulation_mjd
