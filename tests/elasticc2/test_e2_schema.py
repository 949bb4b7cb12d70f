"""The ELAsTiCC2 schema: table and column names, order and types users' SQL relies on; taxonomy."""

import csv

import pytest
from django.db import connection

from desctom.elasticc2.queries import sky
from desctom.survey import taxonomy
from desctom.survey.columns import (
    ALERT_COLUMNS,
    FORCED_COLUMNS,
    OBJECT_COLUMNS,
    SOURCE_COLUMNS,
    TRUTH_COLUMNS,
)
from desctom.testing.paths import SHARED_DATA

pytestmark = pytest.mark.django_db
TAXONOMY = SHARED_DATA / "taxonomy"

FAMILIES = {
    "ppdbdiaobject": OBJECT_COLUMNS, "diaobject": OBJECT_COLUMNS, "trainingdiaobject": OBJECT_COLUMNS,
    "ppdbdiasource": SOURCE_COLUMNS, "diasource": SOURCE_COLUMNS, "trainingdiasource": SOURCE_COLUMNS,
    "ppdbdiaforcedsource": FORCED_COLUMNS, "diaforcedsource": FORCED_COLUMNS,
    "trainingdiaforcedsource": FORCED_COLUMNS,
    "ppdbalert": ALERT_COLUMNS, "trainingalert": ALERT_COLUMNS,
    "diaobjecttruth": TRUTH_COLUMNS, "trainingdiaobjecttruth": TRUTH_COLUMNS,
}


def table_columns(table):
    with connection.cursor() as cur:
        cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position", [table])
        return cur.fetchall()


@pytest.mark.parametrize("table", sorted(FAMILIES))
def test_photometry_tables_have_the_original_columns_in_order(table):
    assert [name for name, _ in table_columns(f"elasticc2_{table}")] == FAMILIES[table]


def test_object_table_types():
    types = dict(table_columns("elasticc2_ppdbdiaobject"))
    assert len(types) == 73
    assert types["diaobject_id"] == "bigint" and types["ra"] == types["decl"] == "double precision"
    assert types["hostgal2_magerr_y"] == "real" and types["isddf"] == "boolean"


def test_other_tables_exist():
    for table in ("gentypeofclassid", "classidofgentype", "brokerclassifier", "brokermessage",
                  "brokersourceids", "diaobjectinfo", "diaobjectclassification", "diaobjectoftarget",
                  "wantedspectra", "plannedspectra", "spectruminfo", "importppdbrunning"):
        assert table_columns(f"elasticc2_{table}"), table
    types = dict(table_columns("elasticc2_brokermessage"))
    assert types["classid"] == "ARRAY" and types["descingesttimestamp"] == "timestamp with time zone"
    assert dict(table_columns("elasticc2_spectruminfo"))["mjd"] == "double precision"  # full precision


def _csv(name):
    with open(TAXONOMY / name) as fh:
        return list(csv.DictReader(fh))


def test_gentypeofclassid_matches_the_published_table():
    with connection.cursor() as cur:
        cur.execute("SELECT gentype, classid, description FROM elasticc2_gentypeofclassid")
        got = sorted(cur.fetchall(), key=lambda r: (r[1], r[0] or -1))
    want = sorted(((int(r["gentype"]) if r["gentype"] else None, int(r["classid"]), r["description"])
                   for r in _csv("elasticc2_gentype_of_classid.csv")), key=lambda r: (r[1], r[0] or -1))
    assert got == want
    assert len(got) == 54 and sum(1 for r in got if r[0] is None) == 23


def test_classidofgentype_matches_the_published_table():
    with connection.cursor() as cur:
        cur.execute("SELECT classid, gentype, description, exactmatch, categorymatch, generalmatch, "
                    "broadmatch FROM elasticc2_classidofgentype")
        got = sorted(cur.fetchall())
    want = sorted((int(r["classid"]), int(r["gentype"]), r["description"],
                   *(r[k] == "True" for k in ("exactmatch", "categorymatch", "generalmatch", "broadmatch")))
                  for r in _csv("elasticc2_classid_of_gentype.csv"))
    assert got == want and len(got) == 124


def test_taxonomy_helpers():
    assert taxonomy.exact_classid(10) == 2222 and taxonomy.exact_classid(89) == 2235
    assert taxonomy.exact_classid(999) is None
    assert len(taxonomy.SIMULATED_LEAF_CLASSES) == 19


def test_cone_search_q3c_and_fallback_agree():
    from desctom.elasticc2.models import PPDBDiaObject

    coords = [(10.0, -30.0), (10.001, -30.0), (10.0, -30.01), (10.5, -30.0), (359.9995, 0.0), (0.0005, 0.0)]
    PPDBDiaObject.objects.bulk_create(PPDBDiaObject(diaobject_id=i, ra=ra, decl=dec)
                                      for i, (ra, dec) in enumerate(coords, start=1))
    assert sky.ensure_sky_indexes() is sky.q3c_available()
    fallback = sky.cone_search("ppdbdiaobject", 10.0, -30.0, 40 / 3600, 10, "diaobject_id", use_q3c=False)
    assert [r["diaobject_id"] for r in fallback] == [1, 2, 3]  # 0", 3.1", 36"; 10.5 deg is far away
    assert fallback[1]["distance_deg"] == pytest.approx(0.001 * 0.8660254, rel=1e-4)
    across_zero = sky.cone_search("ppdbdiaobject", 0.0, 0.0, 3 / 3600, 10, "diaobject_id", use_q3c=False)
    assert sorted(r["diaobject_id"] for r in across_zero) == [5, 6]
    if sky.has_q3c():
        fast = sky.cone_search("ppdbdiaobject", 10.0, -30.0, 40 / 3600, 10, "diaobject_id", use_q3c=True)
        assert [r["diaobject_id"] for r in fast] == [1, 2, 3]


def test_known_detections_time_index_covers_the_object_id():
    """"The objects detected since t" (hot transients, the follow-up board) is an index-only scan: the
    time index holds diaobject_id, and no second index of midpointtai alone is kept beside it."""
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'elasticc2_diasource'")
        defs = [r[0] for r in cur.fetchall()]
    on_time = [d for d in defs if "(midpointtai" in d]
    assert len(on_time) == 1, defs
    assert on_time[0].endswith("(midpointtai) INCLUDE (diaobject_id)"), on_time
