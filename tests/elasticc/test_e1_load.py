"""``load_elasticc_snana`` on the shared SNANA test data: counts and values checked against the files.

Expectations are read here with astropy and a plain DUMP parser, not with the loader's reader.
"""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from astropy.io import fits
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = pytest.mark.django_db
SCALE = 10 ** ((31.4 - 27.5) / 2.5)


def read_dump(path) -> dict[int, dict]:
    names, rows = None, {}
    for line in path.read_text().splitlines():
        words = line.split()
        if words and words[0] == "VARNAMES:":
            names = words[1:]
        elif words and words[0] == "SN:":
            row = dict(zip(names, words[1:], strict=True))
            rows.setdefault(int(row["CID"]), row)
    return rows


def expected(dirs) -> dict:
    """Objects, detections, epochs and truth rows of the files."""
    out = {"objects": 0, "sources": 0, "forced": 0, "truth_objects": 0, "first": None}
    for d in dirs:
        snids = set()
        for head in sorted(d.glob("*HEAD.FITS.gz")):
            with fits.open(head) as hh, fits.open(str(head).replace("HEAD", "PHOT")) as ph:
                h, p = hh[1].data, ph[1].data
                for r in h:
                    block = p[r["PTROBS_MIN"] - 1:r["PTROBS_MAX"]]
                    snids.add(int(r["SNID"]))
                    out["forced"] += len(block)
                    out["sources"] += int(np.count_nonzero(block["PHOTFLAG"] & 4096))
                    if out["first"] is None and len(block):
                        out["first"] = (int(r["SNID"]), float(r["RA"]), float(block[0]["FLUXCAL"]),
                                        float(block[0]["SIM_MAGOBS"]), bool(block[0]["PHOTFLAG"] & 4096))
        out["objects"] += len(snids)
        out["truth_objects"] += len(snids & set(read_dump(d / f"{d.name}.DUMP")))
    return out


def count(table: str, where: str = "") -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM elasticc_{table} {where}")  # noqa: S608 - test constants
        return cur.fetchone()[0]


def test_load_counts_equal_the_fits_files_and_reload_adds_nothing(snana_dirs):
    exp = expected(snana_dirs)
    out = StringIO()
    call_command("load_elasticc_snana", *map(str, snana_dirs), stdout=out)
    assert count("diaobject") == exp["objects"] == 346
    assert count("diasource") == exp["sources"] == count("diaalert")
    assert count("diaalert", 'WHERE "alertSentTimestamp" IS NULL') == exp["sources"]
    assert count("diaforcedsource") == exp["forced"] == count("diatruth")
    assert count("diatruth", "WHERE detect") == exp["sources"]
    assert count("diaobjecttruth") == exp["truth_objects"]
    assert f"objects {exp['objects']} " in out.getvalue()
    out = StringIO()
    call_command("load_elasticc_snana", *map(str, snana_dirs), stdout=out)
    assert f"objects 0 (skipped {exp['objects']})" in out.getvalue()
    assert count("diaforcedsource") == exp["forced"]


def test_loaded_values_follow_v09_semantics(loaded, snana_dirs):
    snid, ra, fluxcal, magobs, detected = expected(snana_dirs[:1])["first"]
    with connection.cursor() as cur:
        cur.execute('SELECT ra, "simVersion" FROM elasticc_diaobject WHERE "diaObjectId" = %s', [snid])
        assert cur.fetchone() == (pytest.approx(ra), "test-v0.9")
        cur.execute('SELECT "psFlux", "totFlux", "ccdVisitId" FROM elasticc_diaforcedsource '
                    'WHERE "diaForcedSourceId" = %s', [snid * 100000])
        flux, tot, visit = cur.fetchone()
        assert flux == pytest.approx(fluxcal * SCALE, rel=1e-6) and tot is None and visit == snid * 100000
        cur.execute('SELECT genmag, detect, t.gentype = o.gentype FROM elasticc_diatruth t '
                    'JOIN elasticc_diaobjecttruth o ON o."diaObjectId" = t."diaObjectId" '
                    'WHERE "diaSourceId" = %s', [snid * 100000])
        assert cur.fetchone() == (pytest.approx(magobs, rel=1e-6), detected, True)
        cur.execute('SELECT count(*) FROM elasticc_diasource s JOIN elasticc_diaalert a '
                    'ON a."alertId" = s."diaSourceId" AND a."diaObjectId" = s."diaObjectId"')
        assert cur.fetchone()[0] == loaded.sources
        # objects with host photo-z quantiles have p50 = q050
        cur.execute("SELECT count(*) FROM elasticc_diaobject WHERE hostgal_zphot_q050 IS NOT NULL "
                    "AND hostgal_zphot_p50 IS DISTINCT FROM hostgal_zphot_q050")
        assert cur.fetchone()[0] == 0


def test_missing_directory_is_a_command_error_naming_it(tmp_path):
    with pytest.raises(CommandError, match="no-such-dir: no such directory"):
        call_command("load_elasticc_snana", str(tmp_path / "no-such-dir"), stdout=StringIO())
    assert count("diaobject") == 0
