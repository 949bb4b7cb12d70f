"""``load_snana_fits`` on the real ELAsTiCC2 SNANA test data, and on damaged copies of it.

Expected numbers are computed here, straight from the FITS and DUMP files with astropy, not with
the loader's code. The loader's workers use their own database connections, hence
``django_db(transaction=True)`` (committed data, tables emptied after each test).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import subprocess
from decimal import Decimal
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from django.core.management import CommandError, call_command
from django.db import connection

from desctom.testing.cli import DESCTOM, cli_env

pytestmark = pytest.mark.django_db(transaction=True)

SCALE = 10 ** ((31.4 - 27.5) / 2.5)
PPDB = {"objects": "ppdbdiaobject", "sources": "ppdbdiasource", "forced": "ppdbdiaforcedsource",
        "alerts": "ppdbalert", "truth": "diaobjecttruth"}
TRAIN = {"objects": "trainingdiaobject", "sources": "trainingdiasource", "forced": "trainingdiaforcedsource",
         "alerts": "trainingalert", "truth": "trainingdiaobjecttruth"}


# -- independent expectations -------------------------------------------------------------------------
def read_dump(path: Path) -> list[dict]:
    names, rows = None, []
    for line in path.read_text().splitlines():
        words = line.split()
        if words and words[0] == "VARNAMES:":
            names = words[1:]
        elif words and words[0] == "SN:":
            rows.append(dict(zip(names, words[1:], strict=True)))
    return rows


def expectations(directory: Path) -> dict:
    """Objects (with their PHOT blocks) and truth rows of one SNANA directory, read with astropy."""
    objects = {}
    for head in sorted(directory.glob("*HEAD.FITS.gz")):
        with fits.open(head) as hh, fits.open(str(head).replace("HEAD.FITS", "PHOT.FITS")) as ph:
            h, p = hh[1].data, ph[1].data
            has_q050 = "HOSTGAL2_ZPHOT_Q050" in h.columns.names  # the M-dwarf files have no quantiles
            for r in h:
                block = p[r["PTROBS_MIN"] - 1:r["PTROBS_MAX"]]
                objects[int(r["SNID"])] = {
                    "head": head.name, "ra": float(r["RA"]), "dec": float(r["DEC"]),
                    "z_final": float(r["REDSHIFT_FINAL"]), "hostgal_zspec": float(r["HOSTGAL_SPECZ"]),
                    "hostgal2_zphot_q050": float(r["HOSTGAL2_ZPHOT_Q050"]) if has_q050 else None,
                    "hostgal_mag_y": float(r["HOSTGAL_MAG_Y"]),
                    "mjd": np.array(block["MJD"], dtype=float), "band": [b.strip() for b in block["BAND"]],
                    "flux": np.array(block["FLUXCAL"], dtype=float),
                    "fluxerr": np.array(block["FLUXCALERR"], dtype=float),
                    "det": (np.array(block["PHOTFLAG"]) & 4096) != 0}
    truth = read_dump(directory / f"{directory.name}.DUMP")
    return {"objects": objects, "truth": truth}


@pytest.fixture(scope="module")
def expected(elasticc2_test_dirs) -> dict:
    per_dir = {d.name: expectations(d) for d in elasticc2_test_dirs}
    objects = {k: v for e in per_dir.values() for k, v in e["objects"].items()}
    return {"dirs": per_dir, "objects": objects, "counts": totals(per_dir.values())}


def totals(dirs) -> dict:
    objects = {k: v for e in dirs for k, v in e["objects"].items()}
    dets = sum(int(o["det"].sum()) for o in objects.values())
    truth = {int(t["CID"]) for e in dirs for t in e["truth"]} & set(objects)
    return {"objects": len(objects), "forced": sum(len(o["mjd"]) for o in objects.values()),
            "sources": dets, "alerts": dets, "truth": len(truth)}


def table_counts(family=PPDB) -> dict:
    with connection.cursor() as cur:
        out = {}
        for key, table in family.items():
            cur.execute(f"SELECT count(*) FROM elasticc2_{table}")
            out[key] = cur.fetchone()[0]
        return out


NOTHING = {"objects": 0, "sources": 0, "forced": 0, "alerts": 0, "truth": 0}


def load(*args, dirs) -> str:
    out = StringIO()
    call_command("load_snana_fits", "-d", *map(str, dirs), *args, stdout=out)
    return out.getvalue()


def query(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


# -- the FITS reader ----------------------------------------------------------------------------------
def test_fits_reader_gives_what_astropy_gives_for_every_column(elasticc2_test_dirs):
    from desctom.loaders.snana.fitstable import FitsTable

    compared = 0
    for path in sorted(p for d in elasticc2_test_dirs for p in d.glob("*.FITS.gz"))[::7]:
        ours = FitsTable.from_bytes(gzip.decompress(path.read_bytes()))
        with fits.open(path) as hdul:
            theirs = hdul[1].data
            assert len(ours) == len(theirs)
            for name in theirs.columns.names:
                mine = ours.column(name)
                if mine.dtype.kind == "S":
                    assert [v.decode().rstrip() for v in mine] == [v.rstrip() for v in theirs[name]], name
                else:
                    assert np.array_equal(mine, theirs[name], equal_nan=True), (path.name, name)
                compared += 1
    assert compared > 2000


# -- loading the real data ----------------------------------------------------------------------------
def test_load_all_three_directories_then_reload_adds_nothing(elasticc2_test_dirs, expected):
    assert expected["counts"]["objects"] == 346  # the shared data: 47 KN + 27 M-dwarf + 272 SNIb objects
    out = load("--ppdb", "--do", dirs=elasticc2_test_dirs)
    assert table_counts() == expected["counts"]
    assert "ETA" in out and "rows/s" in out and f"[120/120 files, {expected['counts']['objects']}" in out
    for name in expected["dirs"]:
        assert f"truth {name}.DUMP: loaded" in out

    again = load("--ppdb", "--do", dirs=elasticc2_test_dirs)
    assert table_counts() == expected["counts"]
    assert "objects already loaded, skipped" in again
    assert "loaded 0 objects, 0 sources, 0 forced sources, 0 alerts, 0 truth rows" in again
    assert f"already loaded, skipped: {expected['counts']['objects']} objects" in again


def test_load_with_two_processes_and_spot_checks(elasticc2_test_dirs, expected):
    load("--ppdb", "--do", "-n", "2", dirs=elasticc2_test_dirs)
    assert table_counts() == expected["counts"]

    # id scheme, flux rescale, detection bit, on every object of one file
    snib = next(d for d in expected["dirs"] if d.endswith("SNIb-Templates"))
    for snid, obj in list(expected["dirs"][snib]["objects"].items())[:20]:
        forced = query("SELECT diaforcedsource_id, midpointtai, filtername, psflux, psfluxerr "
                       "FROM elasticc2_ppdbdiaforcedsource WHERE diaobject_id = %s ORDER BY 1", [snid])
        n = len(obj["mjd"])
        assert [r[0] for r in forced] == [snid * 100000 + k for k in range(n)]
        assert np.allclose([r[1] for r in forced], obj["mjd"], rtol=0, atol=1e-9)
        assert [r[2] for r in forced] == obj["band"]
        assert np.allclose([r[3] for r in forced], obj["flux"] * SCALE, rtol=1e-6, atol=1e-3)
        assert np.allclose([r[4] for r in forced], obj["fluxerr"] * SCALE, rtol=1e-6, atol=1e-3)
        sources = query("SELECT diasource_id, ra, decl, psflux, psfluxerr, snr FROM elasticc2_ppdbdiasource "
                        "WHERE diaobject_id = %s ORDER BY 1", [snid])
        assert [r[0] for r in sources] == [snid * 100000 + k for k in np.flatnonzero(obj["det"])]
        for _, ra, decl, flux, err, snr in sources:
            assert (ra, decl) == (obj["ra"], obj["dec"])
            assert snr == pytest.approx(flux / err, rel=1e-5)
        alerts = query("SELECT alert_id, diasource_id, diaobject_id, alertsenttimestamp "
                       "FROM elasticc2_ppdbalert WHERE diaobject_id = %s ORDER BY 1", [snid])
        assert [(a, s, o, t) for a, s, o, t in alerts] == [(r[0], r[0], snid, None) for r in sources]

    # object columns
    snid, obj = next(iter(expected["dirs"][snib]["objects"].items()))
    row = query("SELECT ra, decl, z_final, hostgal_zspec, hostgal2_zphot_q050, hostgal_mag_y, simversion, "
                "isddf FROM elasticc2_ppdbdiaobject WHERE diaobject_id = %s", [snid])[0]
    assert row[:2] == (obj["ra"], obj["dec"])
    assert np.allclose(row[2:6], [obj["z_final"], obj["hostgal_zspec"], obj["hostgal2_zphot_q050"],
                                  obj["hostgal_mag_y"]], rtol=1e-6)
    assert row[6:] == ("2023-04-01", False)
    assert query("SELECT count(*) FROM elasticc2_ppdbdiaobject WHERE isddf") == [(0,)]  # all have < 1000 rows
    mdwarf = [k for k, o in expected["objects"].items() if o["hostgal2_zphot_q050"] is None]
    assert len(mdwarf) == 27
    assert query("SELECT count(*) FROM elasticc2_ppdbdiaobject WHERE hostgal2_zphot_q050 IS NULL "
                 "AND hostgal_zphot_q000 IS NULL") == [(27,)]

    # the reference's verified example: FLUXCAL 88.17 (88.17079 in a SNIb PHOT file) is stored as 3201.29
    assert query("SELECT round(psflux::numeric, 2) FROM elasticc2_ppdbdiaforcedsource "
                 "WHERE psflux BETWEEN 3201.2 AND 3201.35") == [(Decimal("3201.29"),)]

    # truth values
    t = expected["dirs"][snib]["truth"][0]
    got = query("SELECT gentype, sim_template_index, libid, zcmb, peakmjd, galid, nobs, peakmag_y, ra, dec "
                "FROM elasticc2_diaobjecttruth WHERE diaobject_id = %s", [int(t["CID"])])[0]
    assert got[:3] == (int(t["GENTYPE"]), int(t["NON1A_INDEX"]), int(t["LIBID"]))
    assert got[3] == pytest.approx(float(t["ZCMB"]), rel=1e-6)
    assert got[4] == pytest.approx(float(t["PEAKMJD"]), rel=1e-7)
    assert got[5:7] == (int(t["GALID"]), int(t["NOBS"]))
    assert got[7] == pytest.approx(float(t["PEAKMAG_Y"]), rel=1e-6)
    assert got[8:] == (pytest.approx(float(t["RA"]), abs=1e-9), pytest.approx(float(t["DEC"]), abs=1e-9))


def test_dry_run_reports_counts_and_writes_nothing(elasticc2_test_dirs, expected):
    c = expected["counts"]
    out = load("--ppdb", dirs=elasticc2_test_dirs)
    assert table_counts() == NOTHING
    assert (f"would load {c['objects']} objects, {c['sources']:,} sources, {c['forced']:,} forced sources, "
            f"{c['alerts']:,} alerts, {c['truth']} truth rows") in out
    assert "nothing written" in out


def test_train_writes_the_training_tables(elasticc2_test_dirs, expected):
    mdwarf = next(d for d in elasticc2_test_dirs if d.name.endswith("Mdwarf-flare"))
    load("--train", "--do", "-s", "test-sim", dirs=[mdwarf])
    assert table_counts(TRAIN) == totals([expected["dirs"][mdwarf.name]])
    assert table_counts(PPDB) == NOTHING
    assert query("SELECT DISTINCT simversion FROM elasticc2_trainingdiaobject") == [("test-sim",)]


def test_only_named_files_and_truth_of_unloaded_objects_is_skipped(elasticc2_test_dirs, expected):
    kn = next(d for d in elasticc2_test_dirs if d.name.endswith("KN_K17"))
    objects = expected["dirs"][kn.name]["objects"]
    head = next(o["head"] for o in objects.values())
    mine = {k: o for k, o in objects.items() if o["head"] == head}
    out = load("--ppdb", "--do", "-f", head, dirs=[kn])
    counts = table_counts()
    assert counts["objects"] == counts["truth"] == len(mine)
    assert counts["forced"] == sum(len(o["mjd"]) for o in mine.values())
    skipped = len(expected["dirs"][kn.name]["truth"]) - len(mine)
    assert f"truth {kn.name}.DUMP: loaded {len(mine)} rows, {skipped} skipped (no such object)" in out


def write_snana(folder: Path, nrows: list[int], snid0: int = 900000, hostgal2: bool = False) -> Path:
    """A small SNANA directory of our own: one HEAD/PHOT pair (objects with ``nrows`` rows) and a DUMP."""
    folder.mkdir()
    ptr, rows = [], 0
    for n in nrows:
        ptr.append((rows + 1, rows + n))
        rows += n + 1  # and a separator row
    mjd = np.full(rows, -777.0)
    flag = np.zeros(rows, np.int32)
    for lo, hi in ptr:
        mjd[lo - 1:hi] = 60000 + np.arange(hi - lo + 1) * 0.5
        flag[lo - 1] = 4096 | 2048
    phot = [fits.Column(name="MJD", format="D", array=mjd),
            fits.Column(name="BAND", format="2A", array=np.full(rows, "g ")),
            fits.Column(name="PHOTFLAG", format="J", array=flag),
            fits.Column(name="FLUXCAL", format="E", array=np.full(rows, 88.17, np.float32)),
            fits.Column(name="FLUXCALERR", format="E", array=np.full(rows, 2.0, np.float32))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(phot)]).writeto(folder / "T_PHOT.FITS.gz")
    snids = [snid0 + i for i in range(len(nrows))]
    head = [fits.Column(name="SNID", format="16A", array=[str(s) for s in snids]),
            fits.Column(name="RA", format="D", array=np.full(len(nrows), 10.0)),
            fits.Column(name="DEC", format="D", array=np.full(len(nrows), -5.0)),
            fits.Column(name="PTROBS_MIN", format="J", array=[p[0] for p in ptr]),
            fits.Column(name="PTROBS_MAX", format="J", array=[p[1] for p in ptr]),
            fits.Column(name="HOSTGAL_SPECZ", format="E", array=np.full(len(nrows), 0.25, np.float32))]
    if hostgal2:
        head.append(fits.Column(name="HOSTGAL2_SNSEP", format="E", array=np.ones(len(nrows), np.float32)))
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(head)]).writeto(folder / "T_HEAD.FITS.gz")
    names = ("CID LIBID SIM_SEARCHEFF_MASK GENTYPE NON1A_INDEX ZCMB ZHELIO ZCMB_SMEAR RA DEC MWEBV RV AV MU "
             "LENSDMU PEAKMJD MJD_DETECT_FIRST MJD_DETECT_LAST DTSEASON_PEAK PEAKMAG_u PEAKMAG_g PEAKMAG_r "
             "PEAKMAG_i PEAKMAG_z PEAKMAG_Y SNRMAX SNRMAX2 SNRMAX3 NOBS NOBS_SATURATE").split()
    lines = ["VARNAMES: " + " ".join(names)]
    for s in snids:
        lines.append(f"SN: {s} 1 1 10 20 0.1 0.1 0.1 10.0 -5.0 0.01 3.1 0.1 38 0 60100 60000 60100 5 "
                     "22 22 22 22 22 22 10 5 3 100 0")
    (folder / f"{folder.name}.DUMP").write_text("\n".join(lines) + "\n")
    return folder


def test_isddf_boundary_missing_head_columns_and_zeropoint_options(tmp_path):
    folder = write_snana(tmp_path / "SMALL", [1000, 1001, 3])
    load("--ppdb", "--do", "-a", "27.5", dirs=[folder])
    rows = query("SELECT diaobject_id, isddf, hostgal_zspec, hostgal2_snsep, mwebv "
                 "FROM elasticc2_ppdbdiaobject ORDER BY 1")
    assert [(r[0], r[1]) for r in rows] == [(900000, False), (900001, True), (900002, False)]
    assert all(r[2] == pytest.approx(0.25) and r[3] is None and r[4] is None for r in rows)
    assert query("SELECT DISTINCT psflux FROM elasticc2_ppdbdiaforcedsource") == [(pytest.approx(88.17),)]
    assert query("SELECT count(*) FROM elasticc2_ppdbdiasource") == [(3,)]  # PHOTFLAG 4096|2048 counts
    assert query("SELECT galid, galzphot FROM elasticc2_diaobjecttruth LIMIT 1") == [(None, None)]


def test_too_many_rows_for_the_id_scheme_is_refused(tmp_path):
    folder = write_snana(tmp_path / "SMALL", [120, 5])
    with pytest.raises(CommandError, match=r"T_HEAD\.FITS\.gz: object 900000 has 120 photometry rows"):
        load("--ppdb", "--do", "-m", "100", dirs=[folder])
    assert table_counts() == NOTHING


# -- bad input ----------------------------------------------------------------------------------------
@pytest.fixture
def copied_dirs(elasticc2_test_dirs, tmp_path) -> list[Path]:
    """Private copies of the KN and M-dwarf directories, to damage."""
    out = []
    for d in elasticc2_test_dirs[:2]:
        shutil.copytree(d, tmp_path / d.name)
        out.append(tmp_path / d.name)
    return out


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def refused(dirs, pattern: str) -> str:
    with pytest.raises(CommandError) as info:
        load("--ppdb", "--do", dirs=dirs)
    message = str(info.value)
    assert "\n" not in message
    assert pattern in message, message
    assert table_counts() == NOTHING
    return message


def test_truncated_phot_file(copied_dirs):
    phot = sorted(copied_dirs[1].glob("*PHOT.FITS.gz"))[3]
    truncate(phot)
    assert "truncated" in refused(copied_dirs, str(phot))


def test_truncated_head_file(copied_dirs):
    head = sorted(copied_dirs[0].glob("*HEAD.FITS.gz"))[0]
    truncate(head, 0.8)
    refused(copied_dirs, str(head))


def test_not_a_fits_file(copied_dirs):
    phot = sorted(copied_dirs[0].glob("*PHOT.FITS.gz"))[-1]
    phot.write_bytes(gzip.compress(b"this is not FITS\n" * 500))
    refused(copied_dirs, str(phot))


def test_head_without_phot(copied_dirs):
    phot = sorted(copied_dirs[1].glob("*PHOT.FITS.gz"))[5]
    phot.unlink()
    message = refused(copied_dirs, phot.name.replace("PHOT", "HEAD"))
    assert phot.name in message and "missing" in message


def test_missing_directory(copied_dirs, tmp_path):
    refused([copied_dirs[0], tmp_path / "nowhere"], f"{tmp_path / 'nowhere'}: no such directory")


def test_dump_with_only_unknown_ids(copied_dirs):
    dump = copied_dirs[0] / f"{copied_dirs[0].name}.DUMP"
    lines = []
    for i, line in enumerate(dump.read_text().splitlines()):
        words = line.split()
        if words and words[0] == "SN:":
            line = " ".join(["SN:", str(77_000_000 + i), *words[2:]])
        lines.append(line)
    dump.write_text("\n".join(lines) + "\n")
    assert "none of its 47 CIDs" in refused(copied_dirs, str(dump))


def test_garbage_dump(copied_dirs):
    dump = copied_dirs[1] / f"{copied_dirs[1].name}.DUMP"
    dump.write_bytes(os.urandom(3000))
    refused(copied_dirs, str(dump))


def test_dump_with_some_unknown_ids_loads_the_known_ones(copied_dirs, expected):
    dump = copied_dirs[1] / f"{copied_dirs[1].name}.DUMP"
    first = next(line for line in dump.read_text().splitlines() if line.startswith("SN:"))
    extra = [first.replace(first.split()[1], str(9_000_000 + i), 1) for i in range(3)]
    dump.write_text(dump.read_text().rstrip("\n") + "\n" + "\n".join(extra) + "\n")
    out = load("--ppdb", "--do", dirs=copied_dirs)
    assert table_counts() == totals([expected["dirs"][d.name] for d in copied_dirs])
    assert f"truth {dump.name}: loaded 27 rows, 3 skipped (no such object)" in out


def test_corruption_found_while_loading_leaves_whole_files(copied_dirs, expected):
    """A PHOT file that passes the quick check but fails its CRC: other files are whole or absent."""
    phot = sorted(copied_dirs[0].glob("*PHOT.FITS.gz"))[10]
    good = phot.read_bytes()
    bad = bytearray(good)
    bad[-12:-8] = bytes(b ^ 0xFF for b in bad[-12:-8])  # damage the last deflate bytes, keep the size
    phot.write_bytes(bytes(bad))
    with pytest.raises(CommandError, match=re.escape(str(phot))):
        load("--ppdb", "--do", "-n", "2", dirs=copied_dirs)
    assert_whole_objects(expected)
    damaged = {k for k, o in expected["dirs"][copied_dirs[0].name]["objects"].items()
               if o["head"] == phot.name.replace("PHOT", "HEAD")}
    assert not set(loaded_ids()) & damaged

    phot.write_bytes(good)  # fixed: the rerun completes the load
    load("--ppdb", "--do", dirs=copied_dirs)
    assert table_counts() == totals([expected["dirs"][d.name] for d in copied_dirs])


def loaded_ids() -> list[int]:
    return [r[0] for r in query("SELECT diaobject_id FROM elasticc2_ppdbdiaobject")]


def assert_whole_objects(expected):
    """Every object in the database has all its forced sources, sources and alerts."""
    rows = query("SELECT o.diaobject_id, (SELECT count(*) FROM elasticc2_ppdbdiaforcedsource f "
                 "WHERE f.diaobject_id = o.diaobject_id), (SELECT count(*) FROM elasticc2_ppdbdiasource s "
                 "WHERE s.diaobject_id = o.diaobject_id), (SELECT count(*) FROM elasticc2_ppdbalert a "
                 "WHERE a.diaobject_id = o.diaobject_id) FROM elasticc2_ppdbdiaobject o")
    for snid, nforced, nsources, nalerts in rows:
        obj = expected["objects"][snid]
        assert (nforced, nsources, nalerts) == (len(obj["mjd"]), obj["det"].sum(), obj["det"].sum()), snid
    orphans = query("SELECT count(*) FROM elasticc2_ppdbdiaforcedsource f WHERE NOT EXISTS "
                    "(SELECT 1 FROM elasticc2_ppdbdiaobject o WHERE o.diaobject_id = f.diaobject_id)")
    assert orphans == [(0,)]


# -- the command line: one-line errors, Ctrl-C ----------------------------------------------------------

def test_cli_error_is_one_line_without_traceback(tmp_path):
    proc = subprocess.run([DESCTOM, "load_snana_fits", "-d", str(tmp_path / "absent"), "--ppdb"],
                          env=cli_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"CommandError: {tmp_path / 'absent'}: no such directory"


def test_cli_requires_a_family(elasticc2_test_dirs):
    proc = subprocess.run([DESCTOM, "load_snana_fits", "-d", str(elasticc2_test_dirs[0])],
                          env=cli_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "--ppdb" in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_stops_cleanly_and_a_rerun_completes(elasticc2_test_dirs, expected):
    proc = subprocess.Popen([DESCTOM, "load_snana_fits", "-d", *map(str, elasticc2_test_dirs), "--ppdb",
                             "--do", "-n", "2", "--dont-disable-indexes-fks"], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if sum(1 for s in seen if s.startswith("file ")) >= 5:
            os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C on a terminal: the whole process group
            break
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (err, rest)
    assert "interrupted" in err and "rerun the same command" in err and "Traceback" not in err
    assert "[120/120 files" not in rest
    assert 0 < table_counts()["objects"] < expected["counts"]["objects"]
    assert_whole_objects(expected)

    load("--ppdb", "--do", dirs=elasticc2_test_dirs)
    assert table_counts() == expected["counts"]
