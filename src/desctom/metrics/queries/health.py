"""Is ``update_metrics`` keeping up? The age of the oldest change it has not consumed yet.

Triggers log every change the incremental families follow: of the latest-classification tables
(``metrics_objectclasschange``, ``metrics_sourceclasschange``), every stored message and every change
of an alert's sent time (``metrics_newmessage``, ``metrics_sentchange``); each run of
``update_metrics`` takes the whole of its logs. A change older than ``stale_seconds`` therefore means
no run has finished since it was logged: the metrics process is dead, stuck, or failing every time.
An empty log is healthy however long ago the last run was (nothing to do). One index probe per log
(the oldest row by id).
"""

from __future__ import annotations

LOGS = ("metrics_objectclasschange", "metrics_sourceclasschange", "metrics_newmessage", "metrics_sentchange")

_OLDEST = ("SELECT extract(epoch FROM now() - least("
           + ", ".join(f"(SELECT logged_at FROM {log} ORDER BY id LIMIT 1)" for log in LOGS)
           + "))::float8")


def judge_metrics(cur, stale_seconds: int) -> dict:
    """``{"healthy", "oldest_change_age", "stale_after", "problems"}`` from a DB-API cursor;
    ``oldest_change_age`` is None when nothing waits."""
    cur.execute(_OLDEST)
    age = cur.fetchone()[0]
    problems = []
    if age is not None and age > stale_seconds:
        problems.append(f"a logged change has waited {age:.0f} s for update_metrics "
                        f"(more than {stale_seconds} s): no metrics run finished since")
    return {"healthy": not problems, "oldest_change_age": None if age is None else round(age, 1),
            "stale_after": stale_seconds, "problems": problems}
