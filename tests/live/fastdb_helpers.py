"""FASTDB's client side, written here from its protocol (docs/live_survey.md): the challenge-response
login with ``cryptography``, JSON POSTs with a ``requests`` session and no CSRF token; and live rows."""

from __future__ import annotations

import binascii
import uuid

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

PASSWORD = "fastdb-client-password-7"
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def solve(challenge: dict, password: str) -> str:
    """Decrypt the private key with the password, then the challenge with the private key."""
    salt, iv = binascii.a2b_base64(challenge["salt"]), binascii.a2b_base64(challenge["iv"])
    sealed = binascii.a2b_base64(challenge["privkey"])
    key = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=100000).derive(
        password.encode("utf-8"))
    der = AESGCM(key).decrypt(iv, sealed, None)  # WebCrypto layout: the tag is the last 16 bytes
    private = serialization.load_der_private_key(der, password=None)
    return private.decrypt(binascii.a2b_base64(challenge["challenge"]), OAEP).decode("utf-8")


def login(base: str, username: str, password: str = PASSWORD) -> requests.Session:
    """A fresh session logged in as FASTDB's client does it; raises as the client would."""
    session = requests.Session()
    res = session.post(f"{base}/auth/getchallenge", json={"username": username}, timeout=30)
    assert res.status_code == 200, res.text
    answer = solve(res.json(), password)
    res = session.post(f"{base}/auth/respondchallenge", json={"username": username, "response": answer},
                       timeout=30)
    data = res.json()
    if data.get("status") != "ok" or data.get("username") != username:
        raise RuntimeError(f"Unexpected response logging in: {res.text}")
    return session


def post(session, base: str, url: str, body=None) -> requests.Response:
    """As the client's ``post``: JSON body (or none), the answer checked to be JSON if 200."""
    res = session.post(f"{base}/{url}", json=body, timeout=60)
    if res.status_code == 200 and not url.startswith("db/getsqlqueryresults"):
        assert res.headers["Content-Type"].startswith("application/json"), res.headers["Content-Type"]
    return res


ROOT_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
ROOT_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")


def make_sky():
    """Two root objects: A (diaObjects 101 and 102; detections at 60001, 60003, 60005 (r, g, r); forced
    points at 60000, 60001, 60003) and B (diaObject 201, one detection at 59900, no forced point)."""
    from desctom.live.models import DiaForcedSource, DiaObject, DiaSource, RootDiaObject

    RootDiaObject.objects.create(id=ROOT_A, ra=10.0, dec=-5.0, first_mjd=60001, last_mjd=60005, ndetections=3)
    RootDiaObject.objects.create(id=ROOT_B, ra=20.0, dec=5.0, first_mjd=59900, last_mjd=59900, ndetections=1)
    DiaObject.objects.create(diaobjectid=101, rootid_id=ROOT_A, ra=10.0, dec=-5.0)
    DiaObject.objects.create(diaobjectid=102, rootid_id=ROOT_A, ra=10.0001, dec=-5.0)
    DiaObject.objects.create(diaobjectid=201, rootid_id=ROOT_B, ra=20.0, dec=5.0)
    common = {"detector": 1, "ra": 10.0, "dec": -5.0, "timeprocessedmjdtai": 60010.0}
    for sid, obj, root, visit, mjd, band, flux in ((1001, 101, ROOT_A, 1, 60001.0, "r", 1000.0),
                                                   (1002, 102, ROOT_A, 2, 60003.0, "g", 2000.0),
                                                   (1003, 101, ROOT_A, 3, 60005.0, "r", 3000.0),
                                                   (2001, 201, ROOT_B, 9, 59900.0, "i", 500.0)):
        DiaSource.objects.create(diasourceid=sid, diaobjectid=obj, rootid=root, visit=visit,
                                 midpointmjdtai=mjd, band=band, psfflux=flux, psffluxerr=10.0, **common)
    for fid, visit, mjd, band, flux in ((5000, 0, 60000.0, "g", 5.0), (5001, 1, 60001.0, "r", 990.0),
                                        (5002, 2, 60003.0, "g", 1990.0)):
        DiaForcedSource.objects.create(diaforcedsourceid=fid, diaobjectid=101, rootid=ROOT_A, visit=visit,
                                       midpointmjdtai=mjd, band=band, psfflux=flux, psffluxerr=20.0, **common)
