"""Synthetic surveys (desctom.elasticc2.loaders.synth, `desctom synth_survey`): determinism,
consistency of the written tables, reruns, resumes, Ctrl-C, bad arguments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from io import StringIO

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from desctom.core.bulkcopy import connect
from desctom.elasticc2.loaders.synth import SynthError, generate, synthesize, write
from desctom.elasticc2.loaders.synth.spec import TABLE_KEYS, SurveySpec
from desctom.elasticc2.loaders.synth.writer import FAMILIES
from desctom.survey import taxonomy

N, SEED, FIRST = 2000, 20251124, 7_000_000_000
LAST = FIRST + N - 1
TAG = SurveySpec(N, SEED).tag
BANDS = {"u", "g", "r", "i", "z", "Y"}
TAXONOMY_GENTYPES = {g for gentypes in taxonomy.GENTYPES_OF_LEAF.values() for g in gentypes}


def delete_ids(cur, first: int, last: int, family: str = "ppdb") -> None:
    """Remove the objects first..last and all their rows (committed by the caller's connection)."""
    tables = FAMILIES[family]
    for key in ("alerts", "forced", "sources", "truth", "objects"):
        cur.execute(f"DELETE FROM {tables[key]} WHERE diaobject_id BETWEEN %s AND %s", [first, last])


def query(sql: str, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def scalar(sql: str, params=()):
    return query(sql, params)[0][0]


@pytest.fixture(scope="module")
def written(django_db_setup, django_db_blocker):
    """A 2000-object survey written (and committed) by the command with two writer threads."""
    with django_db_blocker.unblock():
        out = StringIO()
        call_command("synth_survey", "--objects", N, "--seed", SEED, "--first-id", FIRST, "--batch", 300,
                     "--workers", 2, stdout=out)
        try:
            yield out.getvalue()
        finally:
            with connection.cursor() as cur:
                delete_ids(cur, FIRST, LAST)


@pytest.fixture(scope="module")
def survey():
    return generate(N, SEED, first_id=FIRST)


# -- determinism (no database) ---------------------------------------------------------------------------
def assert_same(a, b):
    for key in TABLE_KEYS:
        left, right = getattr(a, key), getattr(b, key)
        assert list(left) == list(right), key
        for name in left:
            x, y = left[name], right[name]
            if isinstance(x, np.ma.MaskedArray):
                assert (np.ma.getmaskarray(x) == np.ma.getmaskarray(y)).all(), name
                x, y = np.ma.filled(x, -1), np.ma.filled(y, -1)
            if x.dtype.kind == "f":
                np.testing.assert_array_equal(x, y, err_msg=f"{key}.{name}")
            else:
                assert (x == y).all(), f"{key}.{name}"


def test_same_seed_same_rows():
    assert_same(generate(300, 5), generate(300, 5))


def test_different_seed_different_rows():
    a, b = generate(300, 5), generate(300, 6)
    assert not np.array_equal(a.objects["ra"], b.objects["ra"])
    assert not np.array_equal(a.truth["gentype"], b.truth["gentype"])
    assert a.counts()["forced"] != b.counts()["forced"]


def test_a_slice_equals_that_slice_of_the_whole_survey(survey):
    part = generate(N, SEED, first_id=FIRST, start=700, stop=1300)
    assert_same(part, survey.select(FIRST + 700, FIRST + 1300))


def test_generated_columns_are_the_tables_columns(survey):
    from desctom.elasticc2.loaders.synth.writer import COLUMNS

    for key in TABLE_KEYS:
        assert list(getattr(survey, key)) == COLUMNS[key], key


def test_every_taxonomy_gentype_is_simulated(survey):
    assert set(survey.truth["gentype"].tolist()) == TAXONOMY_GENTYPES


def test_transients_peak_near_their_true_peak(survey):
    """The brightest epoch of a well-measured SN-like event lies around its true peak (rest-frame days)."""
    forced, truth = survey.forced, survey.truth
    sn_like = {g for leaf in (2222, 2223, 2224, 2225, 2226) for g in taxonomy.GENTYPES_OF_LEAF[leaf]}
    owner = np.searchsorted(survey.objects["diaobject_id"], forced["diaobject_id"])
    checked = 0
    for i in np.flatnonzero(np.isin(truth["gentype"], list(sn_like)) & (truth["snrmax"] > 30)):
        rows = np.flatnonzero(owner == i)
        brightest = forced["midpointtai"][rows[np.argmax(forced["psflux"][rows] / forced["psfluxerr"][rows])]]
        stretch = 1 + truth["zcmb"][i]
        assert -40 * stretch < brightest - truth["peakmjd"][i] < 80 * stretch, i
        checked += 1
    assert checked > 20


def test_kilonovae_are_fast_and_periodic_variables_recur(survey):
    truth = survey.truth
    span = truth["mjd_detect_last"] - truth["mjd_detect_first"]
    kn = np.isin(truth["gentype"], [50, 51])
    assert kn.any() and (span[kn] < 30).all()
    rr_lyrae = truth["gentype"] == 80
    assert np.median(span[rr_lyrae]) > 365  # detected in more than one season


def test_flux_errors_grow_towards_the_red_bands(survey):
    err = {b: np.median(survey.forced["psfluxerr"][survey.forced["filtername"] == b]) for b in BANDS}
    assert err["g"] < err["r"] < err["i"] < err["z"] < err["Y"]
    assert err["u"] > err["g"]


def test_hosts(survey):
    obj, truth = survey.objects, survey.truth
    galactic = truth["zcmb"] == 0
    assert np.isnan(obj["hostgal_zphot"][galactic]).all() and (obj["z_final"][galactic] == 0).all()
    hosted = ~np.isnan(obj["hostgal_zphot"])
    assert hosted.sum() > 0.4 * N
    assert np.isfinite(obj["z_final"][hosted]).all()
    quantiles = np.stack([obj[f"hostgal_zphot_q{q:03d}"][hosted] for q in range(0, 101, 10)], axis=1)
    assert (np.diff(quantiles, axis=1) >= 0).all()
    second = ~np.isnan(obj["hostgal2_snsep"])
    assert 0.03 < second.mean() < 0.3 and not (second & ~hosted).any()
    assert (obj["hostgal2_snsep"][second] > obj["hostgal_snsep"][second]).all()
    # The host sits hostgal_snsep arcsec from the object (host ra/dec are float4: ~0.1" precision).
    dec = np.radians(obj["decl"][hosted])
    dra = (obj["hostgal_ra"][hosted] - obj["ra"][hosted] + 180) % 360 - 180
    sep = 3600 * np.hypot(dra * np.cos(dec), obj["hostgal_dec"][hosted] - obj["decl"][hosted])
    assert np.abs(sep - obj["hostgal_snsep"][hosted]).max() < 0.3
    assert not truth["galid"].mask[hosted].any() and truth["galid"].mask[~hosted].all()


# -- the written tables ---------------------------------------------------------------------------------
IN_RANGE = f"diaobject_id BETWEEN {FIRST} AND {LAST}"


@pytest.mark.django_db
def test_command_reports_what_it_wrote(written):
    assert f"wrote {N:,} objects to the ppdb tables (ids {FIRST}..{LAST})" in written
    assert "rows/s" in written and "ETA" in written
    assert scalar(f"SELECT count(*) FROM elasticc2_ppdbdiaobject WHERE {IN_RANGE}") == N
    assert query(f"SELECT DISTINCT simversion FROM elasticc2_ppdbdiaobject WHERE {IN_RANGE}") == [(TAG,)]


@pytest.mark.django_db
def test_written_rows_are_the_generated_rows(written, survey):
    rows = query("SELECT diaforcedsource_id, midpointtai, filtername, psflux, psfluxerr "
                 f"FROM elasticc2_ppdbdiaforcedsource WHERE {IN_RANGE} ORDER BY diaforcedsource_id")
    ids, mjd, band, flux, err = (np.array(col) for col in zip(*rows, strict=True))
    forced = survey.forced
    assert (ids == forced["diaforcedsource_id"]).all() and (band == forced["filtername"]).all()
    np.testing.assert_array_equal(mjd, forced["midpointtai"])
    np.testing.assert_array_equal(flux.astype(np.float32), forced["psflux"])
    np.testing.assert_array_equal(err.astype(np.float32), forced["psfluxerr"])
    truth = query(f"SELECT gentype FROM elasticc2_diaobjecttruth WHERE {IN_RANGE} ORDER BY diaobject_id")
    assert [g for (g,) in truth] == survey.truth["gentype"].tolist()


@pytest.mark.django_db
def test_every_source_is_a_forced_source_with_the_same_measurement(written):
    assert scalar(f"SELECT count(*) FROM elasticc2_ppdbdiasource WHERE {IN_RANGE}") > N
    assert scalar(f"""
        SELECT count(*) FROM elasticc2_ppdbdiasource s
        LEFT JOIN elasticc2_ppdbdiaforcedsource f ON f.diaforcedsource_id = s.diasource_id
        WHERE s.{IN_RANGE} AND (f.diaforcedsource_id IS NULL OR f.midpointtai <> s.midpointtai
              OR f.psflux <> s.psflux OR f.psfluxerr <> s.psfluxerr OR f.filtername <> s.filtername
              OR f.diaobject_id <> s.diaobject_id)""") == 0


@pytest.mark.django_db
def test_sources_are_exactly_the_epochs_with_snr_5(written):
    assert scalar(f"SELECT min(snr) FROM elasticc2_ppdbdiasource WHERE {IN_RANGE}") >= 5
    assert scalar(f"SELECT max(abs(snr - psflux / psfluxerr)) FROM elasticc2_ppdbdiasource "
                  f"WHERE {IN_RANGE}") < 1e-5
    detections = scalar(f"SELECT count(*) FROM elasticc2_ppdbdiaforcedsource WHERE {IN_RANGE} "
                        "AND psflux / psfluxerr >= 5")
    assert detections == scalar(f"SELECT count(*) FROM elasticc2_ppdbdiasource WHERE {IN_RANGE}")
    # Sources sit at their object's position.
    assert scalar(f"""SELECT count(*) FROM elasticc2_ppdbdiasource s JOIN elasticc2_ppdbdiaobject o
                      USING (diaobject_id) WHERE s.{IN_RANGE} AND (s.ra <> o.ra OR s.decl <> o.decl)""") == 0


@pytest.mark.django_db
def test_one_unsent_alert_per_source(written):
    sources = scalar(f"SELECT count(*) FROM elasticc2_ppdbdiasource WHERE {IN_RANGE}")
    assert scalar(f"SELECT count(*) FROM elasticc2_ppdbalert WHERE {IN_RANGE}") == sources
    assert scalar(f"""
        SELECT count(*) FROM elasticc2_ppdbalert a
        FULL JOIN (SELECT * FROM elasticc2_ppdbdiasource WHERE {IN_RANGE}) s ON a.alert_id = s.diasource_id
        WHERE (a.alert_id IS NULL AND s.diasource_id IS NOT NULL)
           OR (a.{IN_RANGE} AND (s.diasource_id IS NULL OR a.diasource_id <> s.diasource_id
                                 OR a.diaobject_id <> s.diaobject_id OR a.alertsenttimestamp IS NOT NULL))
        """) == 0


@pytest.mark.django_db
def test_forced_ids_follow_the_snana_scheme(written):
    assert scalar(f"""
        SELECT count(*) FROM (
            SELECT diaforcedsource_id, diaobject_id,
                   row_number() OVER (PARTITION BY diaobject_id
                                      ORDER BY midpointtai, diaforcedsource_id) - 1 AS k
            FROM elasticc2_ppdbdiaforcedsource WHERE {IN_RANGE}) x
        WHERE diaforcedsource_id <> diaobject_id * 100000 + k""") == 0


@pytest.mark.django_db
def test_one_sensible_truth_row_per_object(written):
    assert scalar(f"""SELECT count(*) FROM elasticc2_ppdbdiaobject o
                      JOIN elasticc2_diaobjecttruth t USING (diaobject_id) WHERE o.{IN_RANGE}""") == N
    gentypes = {g for (g,) in query(f"SELECT DISTINCT gentype FROM elasticc2_diaobjecttruth "
                                    f"WHERE {IN_RANGE}")}
    assert gentypes <= TAXONOMY_GENTYPES and len(gentypes) >= 25
    mismatched = scalar(f"""
        SELECT count(*) FROM elasticc2_diaobjecttruth t
        JOIN (SELECT diaobject_id, count(*) AS n FROM elasticc2_ppdbdiaforcedsource WHERE {IN_RANGE}
              GROUP BY diaobject_id) f USING (diaobject_id)
        JOIN (SELECT diaobject_id, min(midpointtai) AS first, max(midpointtai) AS last, max(snr) AS best
              FROM elasticc2_ppdbdiasource WHERE {IN_RANGE} GROUP BY diaobject_id) s USING (diaobject_id)
        WHERE t.nobs <> f.n OR t.mjd_detect_first <> s.first OR t.mjd_detect_last <> s.last
           OR t.snrmax <> s.best OR t.nobs_saturate > t.nobs OR t.snrmax2 > t.snrmax""")
    assert mismatched == 0
    (bad,) = query(f"""
        SELECT count(*) FILTER (WHERE zcmb < 0 OR zhelio < 0 OR mu <= 0 OR rv <> 3.1::real OR av < 0
                                OR peakmjd NOT BETWEEN 60796 - 100 AND 60796 + 1095 + 100
                                OR peakmag_r NOT BETWEEN 5 AND 99 OR libid < 0 OR sim_template_index < 0)
        FROM elasticc2_diaobjecttruth WHERE {IN_RANGE}""")[0]
    assert bad == 0
    hosted = scalar(f"SELECT count(*) FROM elasticc2_diaobjecttruth WHERE {IN_RANGE} AND galid IS NOT NULL")
    assert hosted > N / 3


@pytest.mark.django_db
def test_bands_and_seasons(written):
    assert {b for (b,) in query(f"SELECT DISTINCT filtername FROM elasticc2_ppdbdiaforcedsource "
                                f"WHERE {IN_RANGE}")} == BANDS
    # Objects watched for more than a year have seasonal gaps of months; in season, nights a few days apart.
    long_watched, with_gap, night_gap = query(f"""
        WITH g AS (SELECT diaobject_id, midpointtai - lag(midpointtai) OVER w AS gap,
                          max(midpointtai) OVER o - min(midpointtai) OVER o AS span
                   FROM elasticc2_ppdbdiaforcedsource WHERE {IN_RANGE}
                   WINDOW w AS (PARTITION BY diaobject_id ORDER BY midpointtai),
                          o AS (PARTITION BY diaobject_id))
        SELECT count(DISTINCT diaobject_id) FILTER (WHERE span > 400),
               count(DISTINCT diaobject_id) FILTER (WHERE span > 400 AND gap > 60),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) FILTER (WHERE gap > 0.5 AND gap < 60)
        FROM g""")[0]
    assert long_watched > N / 3 and with_gap == long_watched
    assert 1 < night_gap < 10


@pytest.mark.django_db
def test_deep_drilling_objects(written):
    """isddf marks the objects with more than 1000 photometry points (the SNANA loader's rule)."""
    points = {ddf: (lo, hi, count) for ddf, lo, hi, count in query(f"""
        SELECT o.isddf, min(n), max(n), count(*) FROM elasticc2_ppdbdiaobject o
        JOIN (SELECT diaobject_id, count(*) AS n FROM elasticc2_ppdbdiaforcedsource
              WHERE {IN_RANGE} GROUP BY diaobject_id) f USING (diaobject_id)
        GROUP BY o.isddf""")}
    assert points[True][0] > 1000 and points[False][1] <= 1000
    assert 0 < points[True][2] < N / 20


# -- reruns, collisions, resumes ------------------------------------------------------------------------
def table_counts(family="ppdb", first=FIRST, last=LAST):
    return {key: scalar(f"SELECT count(*) FROM {table} WHERE diaobject_id BETWEEN %s AND %s", [first, last])
            for key, table in FAMILIES[family].items()}


@pytest.mark.django_db
def test_rerunning_the_same_command_adds_nothing_and_says_so(written):
    before = table_counts()
    for extra in (["--first-id", FIRST], []):  # found by its ids, and by its name
        out = StringIO()
        call_command("synth_survey", "--objects", N, "--seed", SEED, "--workers", 1, *extra, stdout=out)
        assert f"nothing to do: all {N:,} objects of this survey (ids {FIRST}..{LAST})" in out.getvalue()
        assert "nothing written" in out.getvalue()
    assert table_counts() == before


@pytest.mark.django_db
def test_ids_of_another_survey_stop_the_run_before_it_writes(written):
    before = table_counts(last=LAST + 500)
    with pytest.raises(CommandError, match=r"already hold 1,000 objects of another survey.*nothing written"):
        call_command("synth_survey", "--objects", 1000, "--seed", 1, "--first-id", FIRST + 500,
                     "--workers", 1)
    assert table_counts(last=LAST + 500) == before


@pytest.mark.django_db
def test_default_first_id_is_past_every_object(written):
    highest = scalar("SELECT greatest((SELECT max(diaobject_id) FROM elasticc2_ppdbdiaobject), "
                     "(SELECT max(diaobject_id) FROM elasticc2_trainingdiaobject))")
    assert highest >= LAST
    result = synthesize(20, 3)
    assert result.spec.first_id == (highest // 1_000_000 + 1) * 1_000_000  # max id + 1, rounded up
    assert table_counts(first=result.spec.first_id, last=result.spec.first_id + 19)["objects"] == 20


@pytest.mark.django_db
def test_an_interrupted_run_is_finished_by_rerunning_it():
    n, seed, first = 700, 77, 8_000_000_000
    whole = generate(n, seed, first_id=first)
    write(whole.select(first, first + 150))  # as if earlier batches had been committed out of order
    write(whole.select(first + 400, first + 550))
    out = StringIO()
    call_command("synth_survey", "--objects", n, "--seed", seed, "--batch", 200, "--workers", 1, stdout=out)
    expected = (f"wrote 400 objects (besides 300 written earlier) to the ppdb tables "
                f"(ids {first}..{first + n - 1})")
    assert expected in out.getvalue()
    assert table_counts(first=first, last=first + n) == whole.counts()
    ids = [i for (i,) in query("SELECT diaforcedsource_id FROM elasticc2_ppdbdiaforcedsource "
                               "WHERE diaobject_id BETWEEN %s AND %s ORDER BY 1", [first, first + n])]
    assert ids == whole.forced["diaforcedsource_id"].tolist()


@pytest.mark.django_db
def test_write_refuses_taken_ids_and_writes_nothing():
    part = generate(50, 9, first_id=8_100_000_000)
    assert write(part)["objects"] == 50
    with pytest.raises(SynthError, match="already in elasticc2_ppdbdiaobject: nothing written"):
        write(generate(60, 10, first_id=8_100_000_000))
    assert table_counts(first=8_100_000_000, last=8_100_000_100)["objects"] == 50


@pytest.mark.django_db
def test_training_tables():
    out = StringIO()
    call_command("synth_survey", "--objects", 40, "--seed", 4, "--train", "--workers", 1, "--first-id",
                 8_200_000_000, stdout=out)
    assert "to the train tables" in out.getvalue()
    counts = table_counts("train", 8_200_000_000, 8_200_000_039)
    assert counts["objects"] == counts["truth"] == 40 and counts["alerts"] == counts["sources"] > 0
    assert table_counts("ppdb", 8_200_000_000, 8_200_000_039)["objects"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_parallel_first_load_rebuilds_the_indexes_packed_and_a_later_one_does_not():
    table = "elasticc2_trainingdiaforcedsource"
    listing = "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass"
    indexes = query(f"{listing} ORDER BY 1", [table])
    out = StringIO()
    call_command("synth_survey", "--objects", 40, "--seed", 5, "--train", "--workers", 2, "--batch", 10,
                 "--first-id", 8_300_000_000, stdout=out)
    assert "indexes rebuilt packed after the parallel first load in 0:00:" in out.getvalue()
    assert query(f"{listing} AND indisvalid ORDER BY 1", [table]) == indexes
    with connection.cursor() as cur:  # the rebuilt index answers as the table does
        cur.execute("SET enable_seqscan = off")
        cur.execute(f"SELECT count(*) FROM {table} WHERE diaobject_id = 8300000007")
        by_index = cur.fetchone()[0]
        cur.execute("RESET enable_seqscan")
    assert by_index == table_counts("train", 8_300_000_007, 8_300_000_007)["forced"] > 0
    out = StringIO()
    call_command("synth_survey", "--objects", 20, "--seed", 6, "--train", "--workers", 2, "--batch", 10,
                 "--first-id", 8_400_000_000, stdout=out)
    assert "wrote 20 objects" in out.getvalue() and "indexes rebuilt" not in out.getvalue()


# -- bad arguments ----------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [
    (["--objects", 0, "--seed", 1], "number of objects must be a positive integer"),
    (["--objects", -5, "--seed", 1], "number of objects must be a positive integer"),
    (["--objects", 5, "--seed", -1], "seed must be an integer >= 0"),
    (["--objects", 5, "--seed", 1, "--start-mjd", -3], "start MJD must be a number between"),
    (["--objects", 5, "--seed", 1, "--start-mjd", "nan"], "--start-mjd must be a finite number"),
    (["--objects", 5, "--seed", 1, "--days", 0], "survey length must be between 1 and"),
    (["--objects", 5, "--seed", 1, "--batch", 0], "batch size must be a positive integer"),
    (["--objects", 5, "--seed", 1, "--workers", 0], "number of workers must be a positive integer"),
    (["--objects", 5, "--seed", 1, "--first-id", 0], "first object id must be a positive integer"),
    (["--objects", 5, "--seed", 1, "--first-id", 92233720368547], "do not fit the id scheme"),
])
def test_bad_arguments_give_a_clear_error(args, message):
    before = scalar("SELECT count(*) FROM elasticc2_ppdbdiaobject")
    with pytest.raises(CommandError, match=message):
        call_command("synth_survey", *args)
    assert scalar("SELECT count(*) FROM elasticc2_ppdbdiaobject") == before


def desctom(*args, **kwargs):
    """Run the `desctom` command line against the test database."""
    db = settings.DATABASES["default"]
    env = dict(os.environ, DATABASE_URL=f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
                                        f"{db['NAME']}")
    return subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "desctom"), "synth_survey",
                             *map(str, args)], env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [
    (["--objects", "-3", "--seed", "1"], "number of objects must be a positive integer"),
    (["--objects", "ten", "--seed", "1"], "invalid int value: 'ten'"),
    (["--objects", "10", "--seed", "1", "--start-mjd", "yesterday"], "invalid float value: 'yesterday'"),
    (["--objects", "10"], "the following arguments are required: --seed"),
])
def test_command_line_errors_have_no_traceback(args, message):
    proc = desctom(*args)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert message in err and "Traceback" not in err + out


@pytest.mark.django_db
def test_ctrl_c_leaves_whole_batches_and_says_how_to_finish():
    first, n, batch = 8_300_000_000, 20_000, 250
    proc = desctom("--objects", n, "--seed", 31, "--first-id", first, "--batch", batch, "--workers", 2)
    try:
        line = proc.stdout.readline()  # the first progress line: a batch is committed
        assert line.split("/")[0].replace(",", "").isdigit(), line
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert "interrupted" in err and "run the same command again to finish" in err
        assert "Traceback" not in err
        with connect(autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM elasticc2_ppdbdiaobject WHERE diaobject_id BETWEEN %s AND %s",
                        [first, first + n])
            (objects,) = cur.fetchone()
            assert 0 < objects < n and objects % batch == 0
            cur.execute("""SELECT count(*) FROM elasticc2_ppdbdiaobject o
                           JOIN elasticc2_diaobjecttruth t USING (diaobject_id)
                           LEFT JOIN (SELECT diaobject_id, count(*) AS n FROM elasticc2_ppdbdiaforcedsource
                                      GROUP BY diaobject_id) f USING (diaobject_id)
                           WHERE o.diaobject_id BETWEEN %s AND %s AND f.n = t.nobs""", [first, first + n])
            assert cur.fetchone()[0] == objects  # every object written is complete
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with connect(autocommit=True) as conn, conn.cursor() as cur:
            delete_ids(cur, first, first + n)


@pytest.mark.django_db
def test_written_tables_have_planner_statistics():
    from django.db import connection

    from desctom.elasticc2.loaders.synth.runner import synthesize

    synthesize(30, 5)
    with connection.cursor() as cur:
        cur.execute("SELECT relname FROM pg_stat_user_tables WHERE relname LIKE 'elasticc2_ppdb%%' "
                    "AND last_analyze IS NOT NULL")
        analysed = {r[0] for r in cur.fetchall()}
    assert {"elasticc2_ppdbdiaobject", "elasticc2_ppdbdiasource", "elasticc2_ppdbdiaforcedsource",
            "elasticc2_ppdbalert"} <= analysed
