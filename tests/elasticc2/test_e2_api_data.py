"""A small ELAsTiCC2 sample for the API tests (no tests here: the test_e2_api_* modules import it).

Every value is exactly representable as a float4, so what the API returns can be compared with
the rows written here. Ids follow the original's scheme: forced source id = object id x 100000
+ k, a detection has the id of its forced source, and its alert the same id again.
"""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from desctom.elasticc2.models import (
    ClassIdOfGentype,
    DiaForcedSource,
    DiaObject,
    GentypeOfClassId,
    PPDBAlert,
    PPDBDiaForcedSource,
    PPDBDiaObject,
    PPDBDiaSource,
)
from desctom.survey import taxonomy

PASSWORD = "a sample password for the API tests"
BANDS = "ugrizY"

#: object id -> (ra, decl); A and B are near each other, C and D on either side of ra = 0.
OBJ_A, OBJ_B, OBJ_C, OBJ_D = 1001, 1002, 1003, 1004
POSITIONS = {OBJ_A: (10.0, -5.0), OBJ_B: (10.001, -5.0), OBJ_C: (359.9995, 0.0), OBJ_D: (0.00025, 0.0)}

#: Host values of object A (all other host columns stay NULL, and object B has none at all).
HOST_A = {"hostgal_mag_u": 23.5, "hostgal_mag_g": 22.75, "hostgal_mag_r": 22.25, "hostgal_mag_i": 22.0,
          "hostgal_mag_z": 21.75, "hostgal_magerr_u": 0.25, "hostgal_magerr_g": 0.125,
          "hostgal_ellipticity": 0.5, "hostgal_sqradius": 1.5, "hostgal_snsep": 0.75, "mwebv": 0.03125}

#: The last forced point of A that the "known" (local) tables hold.
LOCAL_A_POINTS = 15


def a_flux(k: int) -> float:
    """Object A: a flat 100 nJy, then a bright transient from point 6 to point 13."""
    return 100.0 + (2000.0 - 150.0 * abs(k - 9) if 6 <= k <= 13 else 0.0) + (k % 3) * 2.5


def forced_rows() -> dict[int, list[dict]]:
    """The PPDB forced photometry of each object, in time order."""
    rows = {OBJ_A: [], OBJ_B: []}
    for k in range(20):
        rows[OBJ_A].append({"diaforcedsource_id": OBJ_A * 100000 + k, "midpointtai": 60000.0 + 2.0 * k,
                            "filtername": BANDS[k % 6], "psflux": a_flux(k), "psfluxerr": 10.0 + (k % 2)})
    for k, (flux, band) in enumerate([(50.0, "r"), (900.0, "g"), (400.0, "r")]):
        rows[OBJ_B].append({"diaforcedsource_id": OBJ_B * 100000 + k, "midpointtai": 60010.5 + 3.0 * k,
                            "filtername": band, "psflux": flux, "psfluxerr": 20.0})
    return rows


def source_rows() -> dict[int, list[dict]]:
    """Detections: forced points brighter than 500 nJy (S/N > 5 everywhere here)."""
    result = {}
    for oid, rows in forced_rows().items():
        ra, decl = POSITIONS[oid]
        result[oid] = [{"diasource_id": r["diaforcedsource_id"], "midpointtai": r["midpointtai"],
                        "filtername": r["filtername"], "ra": ra, "decl": decl, "psflux": r["psflux"],
                        "psfluxerr": r["psfluxerr"], "snr": float(round(r["psflux"] / r["psfluxerr"]))}
                       for r in rows if r["psflux"] > 500.0]
    return result


def load_sample() -> dict:
    """Write the sample to the PPDB and local tables; returns the raw rows."""
    forced, sources = forced_rows(), source_rows()
    for oid, (ra, decl) in POSITIONS.items():
        PPDBDiaObject.objects.create(diaobject_id=oid, simversion="test", ra=ra, decl=decl,
                                     **(HOST_A if oid == OBJ_A else {}))
    for oid, rows in forced.items():
        PPDBDiaForcedSource.objects.bulk_create(PPDBDiaForcedSource(diaobject_id=oid, **r) for r in rows)
        PPDBDiaSource.objects.bulk_create(PPDBDiaSource(diaobject_id=oid, **r) for r in sources[oid])
        PPDBAlert.objects.bulk_create(PPDBAlert(alert_id=s["diasource_id"], diasource_id=s["diasource_id"],
                                                diaobject_id=oid) for s in sources[oid])
    # The known objects: A (part of its photometry), B (all of it), C (no photometry at all).
    local_forced = {OBJ_A: forced[OBJ_A][:LOCAL_A_POINTS], OBJ_B: forced[OBJ_B]}
    for oid in (OBJ_A, OBJ_B, OBJ_C):
        ra, decl = POSITIONS[oid]
        DiaObject.objects.create(diaobject_id=oid, simversion="test", ra=ra, decl=decl,
                                 **(HOST_A if oid == OBJ_A else {}))
    for oid, rows in local_forced.items():
        DiaForcedSource.objects.bulk_create(DiaForcedSource(diaobject_id=oid, **r) for r in rows)
    return {"forced": forced, "sources": sources, "local_forced": local_forced}


def refill_taxonomy():
    """Put back the taxonomy rows the migration wrote, if a test with a live server (whose end empties
    every table) removed them."""
    taxonomy.fill_tables(GentypeOfClassId, ClassIdOfGentype)
    assert (GentypeOfClassId.objects.count(), ClassIdOfGentype.objects.count()) == (54, 124)


def make_user(name: str = "apiuser") -> User:
    return User.objects.create_user(name, password=PASSWORD)


def logged_in(client, name: str = "apiuser"):
    """Django's test ``client``, logged in (session) as a new ordinary user."""
    client.force_login(make_user(name))
    return client


def token_header(user: User) -> dict:
    """Request headers that authenticate as ``user`` with an API token (no session, no CSRF)."""
    token, _ = Token.objects.get_or_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def post_json(client, url: str, data, **headers):
    """POST ``data`` as a JSON body (``str``/``bytes`` are sent as they are)."""
    body = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return client.post(url, body, content_type="application/json", **headers)


def get_json(client, url: str, data, **headers):
    """GET with a JSON body (the original reads the body on GET too)."""
    return client.generic("GET", url, json.dumps(data), content_type="application/json", **headers)


def strict_json(response):
    """The body parsed as strict JSON: NaN or Infinity fail the test."""
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(response.content, parse_constant=refuse)


def assert_error(response, status: int, text: str):
    """A client error: ``status`` and the JSON body ``{"error": text}``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": text}
