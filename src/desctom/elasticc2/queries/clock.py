"""The simulated campaign's clock."""

from __future__ import annotations

from desctom.core.counting import scalar


def simulation_clock() -> float | None:
    """MJD of the latest sent alert: the sender's record, else the latest detection the TOM knows."""
    mjd = scalar("SELECT max(last_mjd) FROM elasticc2_alertsenderrun WHERE status <> 'dryrun'")
    if mjd is None:
        mjd = scalar("SELECT max(midpointtai) FROM elasticc2_diasource")
    return mjd
