"""``/elasticc2/conesearch``: PPDB objects near a position, nearest first."""

import math

import pytest
from test_e2_api_data import (
    OBJ_A,
    OBJ_B,
    OBJ_C,
    OBJ_D,
    POSITIONS,
    assert_error,
    post_json,
    strict_json,
)

from desctom.elasticc2.models import PPDBDiaObject

pytestmark = pytest.mark.django_db
URL = "/elasticc2/conesearch"


def separation_arcsec(ra1, dec1, ra2, dec2):
    """Great-circle distance (haversine), computed here independently of the server."""
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    h = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((r2 - r1) / 2) ** 2
    return math.degrees(2 * math.asin(math.sqrt(h))) * 3600


def test_nearest_first(api, sample):
    ra, dec = POSITIONS[OBJ_A]
    res = post_json(api, URL, {"ra": ra + 0.0001, "dec": dec, "radius_arcsec": 10})
    assert res.status_code == 200
    got = strict_json(res)
    assert got["status"] == "ok"
    assert [o["diaobject_id"] for o in got["objects"]] == [OBJ_A, OBJ_B]
    for o in got["objects"]:
        assert set(o) == {"diaobject_id", "ra", "decl", "distance_arcsec"}
        assert (o["ra"], o["decl"]) == POSITIONS[o["diaobject_id"]]
        assert o["distance_arcsec"] == pytest.approx(separation_arcsec(ra + 0.0001, dec, o["ra"], o["decl"]),
                                                     abs=1e-6)
    assert got["objects"][1]["distance_arcsec"] == pytest.approx(3.2275, abs=1e-3)


def test_radius_and_limit(api, sample):
    ra, dec = POSITIONS[OBJ_A]
    assert [o["diaobject_id"] for o in post_json(api, URL, {"ra": ra, "dec": dec, "radius_arcsec": 1})
            .json()["objects"]] == [OBJ_A]
    assert [o["diaobject_id"] for o in post_json(api, URL, {"ra": ra, "dec": dec, "radius_arcsec": 10,
                                                            "limit": 1}).json()["objects"]] == [OBJ_A]
    assert post_json(api, URL, {"ra": 180, "dec": 45, "radius_arcsec": 3600}).json() == {"status": "ok",
                                                                                        "objects": []}


def test_across_ra_zero(api, sample):
    """D (ra 0.00025) and C (ra 359.9995) are 2.7" apart across ra = 0."""
    for ra, distances in ((0, (0.9, 1.8)), (360, (0.9, 1.8)), (359.9999, (1.26, 1.44))):
        got = post_json(api, URL, {"ra": ra, "dec": 0, "radius_arcsec": 3}).json()["objects"]
        assert [o["diaobject_id"] for o in got] == [OBJ_D, OBJ_C]
        assert [o["distance_arcsec"] for o in got] == pytest.approx(distances, abs=1e-6)


def test_default_limit_is_100(api, sample):
    PPDBDiaObject.objects.bulk_create(PPDBDiaObject(diaobject_id=9000 + i, ra=100.0 + i * 1e-5, decl=20.0)
                                      for i in range(120))
    got = post_json(api, URL, {"ra": 100.0, "dec": 20.0, "radius_arcsec": 60}).json()["objects"]
    assert [o["diaobject_id"] for o in got] == list(range(9000, 9100))
    big = post_json(api, URL, {"ra": 100.0, "dec": 20.0, "radius_arcsec": 60, "limit": 10000}).json()
    assert len(big["objects"]) == 120


@pytest.mark.parametrize(("body", "text"), [
    ({"dec": 0, "radius_arcsec": 1}, "ra is required"),
    ({"ra": 0, "radius_arcsec": 1}, "dec is required"),
    ({"ra": 0, "dec": 0}, "radius_arcsec is required"),
    ({"ra": 360.5, "dec": 0, "radius_arcsec": 1}, "ra must be between 0 and 360 degrees, not 360.5"),
    ({"ra": -1, "dec": 0, "radius_arcsec": 1}, "ra must be between 0 and 360 degrees, not -1.0"),
    ({"ra": 0, "dec": 90.5, "radius_arcsec": 1}, "dec must be between -90 and 90 degrees, not 90.5"),
    ({"ra": 0, "dec": -91, "radius_arcsec": 1}, "dec must be between -90 and 90 degrees, not -91.0"),
    ({"ra": 0, "dec": 0, "radius_arcsec": 0}, "radius_arcsec must be > 0 and <= 3600, not 0.0"),
    ({"ra": 0, "dec": 0, "radius_arcsec": 3600.5}, "radius_arcsec must be > 0 and <= 3600, not 3600.5"),
    ({"ra": "north", "dec": 0, "radius_arcsec": 1}, 'ra must be a finite number, not "north"'),
    ({"ra": 0, "dec": 0, "radius_arcsec": 1, "limit": 0}, "limit must be between 1 and 10000, not 0"),
    ({"ra": 0, "dec": 0, "radius_arcsec": 1, "limit": 10001}, "limit must be between 1 and 10000, not 10001"),
    ({"ra": 0, "dec": 0, "radius_arcsec": 1, "limit": "all"}, 'limit must be an integer, not "all"'),
    ({"ra": 0, "dec": 0, "radius": 1}, "Unknown parameters: ['radius']; known are "
                                       "['dec', 'limit', 'ra', 'radius_arcsec']"),
    ([0, 0, 1], "request body must be a JSON object, not a list"),
])
def test_bad_input_is_400_naming_the_field(api, sample, body, text):
    assert_error(post_json(api, URL, body), 400, text)


def test_nan_is_refused(api, sample):
    assert_error(post_json(api, URL, '{"ra": NaN, "dec": 0, "radius_arcsec": 1}'), 400,
                 "ra must be a finite number, not NaN")


def test_anonymous_gets_401(client, sample):
    res = post_json(client, URL, {"ra": 10, "dec": -5, "radius_arcsec": 10})
    assert res.status_code == 401 and res.json() == {"error": "Authentication credentials were not provided."}
