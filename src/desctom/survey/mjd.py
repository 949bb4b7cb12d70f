"""Modified Julian Dates: the survey's clock."""

from __future__ import annotations

import datetime

MJD_EPOCH = datetime.datetime(1858, 11, 17, tzinfo=datetime.UTC)


def mjd_to_date(mjd: float) -> str:
    """The UTC calendar date (``YYYY-MM-DD``) of ``mjd``."""
    return (MJD_EPOCH + datetime.timedelta(days=mjd)).strftime("%Y-%m-%d")
