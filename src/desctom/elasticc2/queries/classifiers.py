"""The registered broker classifiers: the registry with message counts, and the registry rows of some."""

from __future__ import annotations

from desctom.core.counting import Count, count, dict_rows, rows

REGISTRY_COLUMNS = "classifier_id, brokername, brokerversion, classifiername, classifierparams"


def classifier_table(connection=None) -> tuple[list[dict], bool]:
    """Every registered classifier with its message count and latest message time.

    Exact on a small message table; on a big one the counts come from the planner's statistics
    (``pg_stats`` most common values) and each classifier's latest message is one probe of the index
    ``elasticc2_bm_classifier_time`` (however long the classifier has been quiet).
    """
    classifiers = dict_rows(f"SELECT {REGISTRY_COLUMNS} "
                            "FROM elasticc2_brokerclassifier "
                            "ORDER BY brokername, brokerversion, classifiername, classifierparams, 1",
                            connection=connection)
    total = count("elasticc2_brokermessage", connection=connection)
    if not total.estimated:
        stats = {cid: (n, latest) for cid, n, latest in rows(
            "SELECT classifier_id, count(*), max(descingesttimestamp) FROM elasticc2_brokermessage "
            "GROUP BY classifier_id", connection=connection)}
    else:
        freqs = dict(rows("""
            SELECT v::bigint, f FROM pg_stats s,
                   unnest(s.most_common_vals::text::bigint[], s.most_common_freqs) AS u(v, f)
            WHERE s.tablename = 'elasticc2_brokermessage' AND s.attname = 'classifier_id'""",
                          connection=connection))
        latest = dict(rows("""
            SELECT c.classifier_id, l.t FROM elasticc2_brokerclassifier c CROSS JOIN LATERAL (
                SELECT m.descingesttimestamp AS t FROM elasticc2_brokermessage m
                WHERE m.classifier_id = c.classifier_id
                ORDER BY m.descingesttimestamp DESC LIMIT 1) l""", connection=connection))
        stats = {cid: (round(freqs[cid] * total.value) if cid in freqs else None, latest.get(cid))
                 for cid in (c["classifier_id"] for c in classifiers)}
    for c in classifiers:
        n, c["latest"] = stats.get(c["classifier_id"], (0, None))
        c["messages"] = None if n is None else Count(n, total.estimated)
    return classifiers, total.estimated


def registry_rows(classifier_ids, connection=None) -> dict[int, dict]:
    """classifier_id -> its registry row (broker name and version, classifier name and params)."""
    return {r["classifier_id"]: r for r in dict_rows(
        f"SELECT {REGISTRY_COLUMNS} FROM elasticc2_brokerclassifier WHERE classifier_id = ANY(%s)",
        [sorted(set(classifier_ids))], connection)}
