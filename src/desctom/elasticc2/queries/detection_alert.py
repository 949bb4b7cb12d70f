"""The alert of one detection (``/elasticc2/getalert``), by alert id or by source id."""

from __future__ import annotations

from desctom.elasticc2.queries.alerts import alert_ids_of_sources, reconstruct_alerts


def alert_of_detection(alert_id: int | None = None, source_id: int | None = None, conn=None) -> dict | None:
    """The alert ``alert_id`` (or else the alert of the PPDB source ``source_id``), rebuilt with the
    original's defaults; ``None`` if there is none. ``conn``: the connection to use (default: Django's)."""
    if alert_id is None:
        alert_id = alert_ids_of_sources([source_id], connection=conn).get(source_id)
        if alert_id is None:
            return None
    return reconstruct_alerts([alert_id], connection=conn).get(alert_id)
