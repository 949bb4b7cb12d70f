"""Benchmark: ``load_snana_fits`` on a synthetic SNANA set of >= 2,000,000 photometry rows.

    .venv/bin/python benchmarks/load_snana.py [--rows 2000000] [--files 16] [--nprocs 2] [--keep]
        [--indexes auto|defer|keep] [--data DIR]

Writes HEAD/PHOT ``.FITS.gz`` pairs in the layout of the real ELAsTiCC2 files (same PHOT columns,
a HEAD with the mapped columns plus unused ones, separator rows between objects) and a truth
``.DUMP`` into a temporary folder, starts a throwaway PostgreSQL, migrates it, loads everything
into the PPDB tables with ``--nprocs`` worker processes, checks the row counts, and prints
forced-source rows/s, all rows/s and seconds, and where the time went: the phases of the load
(checks, file loads, truth, re-creating the deferred secondary indexes) with the PostgreSQL CPU
of each. The figures include re-creating the indexes. Everything is removed at the end (``--keep``
keeps the synthetic files; ``--data`` reuses such a kept set instead of writing a new one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

BANDS = np.array([b"u ", b"g ", b"r ", b"i ", b"z ", b"Y "])
#: PHOT columns of the real files, in order: (name, FITS format).
PHOT_LAYOUT = [("MJD", "D"), ("BAND", "2A"), ("CCDNUM", "I"), ("FIELD", "12A"), ("PHOTFLAG", "J"),
               ("PHOTPROB", "E"), ("FLUXCAL", "E"), ("FLUXCALERR", "E"), ("PSF_SIG1", "E"), ("PSF_SIG2", "E"),
               ("PSF_RATIO", "E"), ("SKY_SIG", "E"), ("SKY_SIG_T", "E"), ("RDNOISE", "E"), ("ZEROPT", "E"),
               ("ZEROPT_ERR", "E"), ("GAIN", "E"), ("XPIX", "E"), ("YPIX", "E"), ("SIM_FLUXCAL_HOSTERR", "E"),
               ("SIM_MAGOBS", "E")]
DUMP_VARNAMES = ("CID LIBID SIM_SEARCHEFF_MASK GENTYPE NON1A_INDEX ZCMB ZHELIO ZCMB_SMEAR RA DEC MWEBV GALID "
                 "GALZPHOT GALZPHOTERR GALSNSEP GALSNDDLR RV AV MU LENSDMU PEAKMJD MJD_DETECT_FIRST "
                 "MJD_DETECT_LAST DTSEASON_PEAK PEAKMAG_u PEAKMAG_g PEAKMAG_r PEAKMAG_i PEAKMAG_z PEAKMAG_Y "
                 "SNRMAX SNRMAX2 SNRMAX3 NOBS NOBS_SATURATE").split()


def head_layout() -> list[tuple[str, str]]:
    """HEAD columns: everything the loader maps, plus a block of simulation columns it drops."""
    cols = [("SNID", "16A"), ("IAUC", "16A"), ("FAKE", "I"), ("RA", "D"), ("DEC", "D"), ("PIXSIZE", "E"),
            ("SNTYPE", "J"), ("NOBS", "J"), ("PTROBS_MIN", "J"), ("PTROBS_MAX", "J"), ("MWEBV", "E"),
            ("MWEBV_ERR", "E"), ("REDSHIFT_HELIO", "E"), ("REDSHIFT_HELIO_ERR", "E"), ("REDSHIFT_FINAL", "E"),
            ("REDSHIFT_FINAL_ERR", "E")]
    for g in ("HOSTGAL", "HOSTGAL2"):
        cols += [(f"{g}_OBJID", "K"), (f"{g}_PHOTOZ", "E"), (f"{g}_PHOTOZ_ERR", "E"), (f"{g}_SPECZ", "E"),
                 (f"{g}_SPECZ_ERR", "E"), (f"{g}_RA", "D"), (f"{g}_DEC", "D"), (f"{g}_SNSEP", "E"),
                 (f"{g}_DDLR", "E"), (f"{g}_LOGMASS", "E"), (f"{g}_ELLIPTICITY", "E"), (f"{g}_SQRADIUS", "E")]
        cols += [(f"{g}_ZPHOT_Q{q:03d}", "E") for q in range(0, 101, 10)]
        cols += [(f"{g}_MAG_{b}", "E") for b in "ugrizY"] + [(f"{g}_MAGERR_{b}", "E") for b in "ugrizY"]
    cols += [("PEAKMJD", "E"), ("SIM_MODEL_NAME", "32A"), ("SIM_TYPE_INDEX", "I"),
             ("SIM_TEMPLATE_INDEX", "J")]
    cols += [(f"SIM_EXTRA_{i:02d}", "E") for i in range(40)]
    return cols


def write_synthetic(folder: Path, rows: int, files: int, seed: int = 42) -> dict:
    """Write the synthetic set; returns the expected counts."""
    from astropy.io import fits

    rng = np.random.default_rng(seed)
    name = "SYNTH_ELASTICC2_BENCH"
    folder = folder / name
    folder.mkdir(parents=True)
    per_file = -(-rows // files)
    expected = {"objects": 0, "forced": 0, "sources": 0}
    # SNIDs as in the real files: each file's objects are scattered over the whole id range
    snid_pool = iter(1_000_000 + rng.permutation(20 * (rows // 100 + 1000)))
    dump_lines = [f"VARNAMES: {' '.join(DUMP_VARNAMES)}\n"]
    for f in range(files):
        nobs = []
        while sum(nobs) < per_file:  # typical light curves, and now and then a deep-drilling one
            nobs.append(int(rng.integers(1500, 3000)) if rng.random() < 0.01 else int(rng.integers(60, 300)))
        nobs[-1] -= sum(nobs) - per_file
        if nobs[-1] <= 0:
            nobs.pop()
        nobs = np.array(nobs)
        nobj = len(nobs)
        snid = np.array([next(snid_pool) for _ in range(nobj)], dtype=np.int64)
        ptrmin = np.cumsum(nobs + 1) - (nobs + 1) + 1  # one separator row after each object
        nphot = int((nobs + 1).sum())
        sep = np.zeros(nphot, dtype=bool)
        sep[ptrmin + nobs - 1] = True
        phot = {}
        mjd = np.round(np.concatenate([np.sort(60000 + rng.random(n) * 1100) for n in nobs]), 4)
        full_mjd = np.full(nphot, -777.0)
        full_mjd[~sep] = mjd
        phot["MJD"] = full_mjd
        band = BANDS[rng.integers(0, 6, nphot)]
        band[sep] = b"- "
        phot["BAND"] = band
        phot["CCDNUM"] = np.full(nphot, -9, np.int16)
        phot["FIELD"] = np.where(sep, b"XXXX", b"VOID")
        detected = (rng.random(nphot) < 0.05) & ~sep
        phot["PHOTFLAG"] = np.where(detected, 4096, 0).astype(np.int32)
        flux = rng.normal(0, 10, nphot).astype(np.float32)
        flux[detected] += 100
        phot["FLUXCAL"] = np.where(sep, -777, flux).astype(np.float32)
        phot["FLUXCALERR"] = np.where(sep, -777, rng.uniform(3, 20, nphot)).astype(np.float32)
        # the other columns as in the real files: mostly constants and 2-4 significant digits
        phot["PHOTPROB"] = np.full(nphot, -9.0, np.float32)
        phot["PSF_SIG1"] = np.round(rng.uniform(1.4, 2.6, nphot), 2).astype(np.float32)
        phot["SKY_SIG"] = np.round(rng.uniform(20, 90, nphot), 2).astype(np.float32)
        phot["RDNOISE"] = np.full(nphot, 0.25, np.float32)
        phot["ZEROPT"] = np.round(rng.uniform(30.0, 31.6, nphot), 2).astype(np.float32)
        phot["ZEROPT_ERR"] = np.full(nphot, 0.005, np.float32)
        phot["GAIN"] = np.ones(nphot, np.float32)
        phot["XPIX"] = phot["YPIX"] = np.full(nphot, -9.0, np.float32)
        phot["SIM_MAGOBS"] = np.where(detected, rng.uniform(20, 25, nphot), 99.0).astype(np.float32)
        for cname, _ in PHOT_LAYOUT:
            if cname not in phot:
                phot[cname] = np.zeros(nphot, np.float32)
        pcols = [fits.Column(name=c, format=fmt, array=phot[c]) for c, fmt in PHOT_LAYOUT]
        phot_name = f"{name}_NONIaMODEL0-{f + 1:04d}_PHOT.FITS"
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(pcols, name="Photometry")]).writeto(
            folder / f"{phot_name}.gz")
        ra = rng.uniform(0, 360, nobj)
        dec = np.degrees(np.arcsin(rng.uniform(-1, 0.2, nobj)))
        head = {"SNID": np.char.mod("%d", snid).astype("S16"), "RA": ra, "DEC": dec, "NOBS": nobs,
                "PTROBS_MIN": ptrmin, "PTROBS_MAX": ptrmin + nobs - 1, "IAUC": np.full(nobj, b"NULL"),
                "SIM_MODEL_NAME": np.full(nobj, b"SYNTH")}
        hcols = []
        for cname, fmt in head_layout():
            values = head.get(cname)
            if values is None:
                values = rng.random(nobj).astype({"D": np.float64, "K": np.int64, "J": np.int32,
                                                  "I": np.int16}.get(fmt, np.float32)) * 10
            hcols.append(fits.Column(name=cname, format=fmt, array=values))
        hdr = fits.Header()
        hdr["PHOTFILE"] = phot_name
        hdus = [fits.PrimaryHDU(header=hdr), fits.BinTableHDU.from_columns(hcols, name="Header")]
        fits.HDUList(hdus).writeto(folder / f"{name}_NONIaMODEL0-{f + 1:04d}_HEAD.FITS.gz")
        for i in range(nobj):
            vals = [int(snid[i]), 1000 + i, 1, 42, 7] + [f"{v:.5e}" for v in rng.random(3)] + \
                   [f"{ra[i]:.6f}", f"{dec[i]:.6f}", "1.0e-02", "8000000585"] + \
                   [f"{v:.5e}" for v in rng.random(8)] + ["60500.0", "60490.0", "60510.0", "12.0"] + \
                   [f"{v:.4f}" for v in 20 + rng.random(6) * 5] + ["15.0", "9.0", "4.0", int(nobs[i]), 0]
            dump_lines.append("SN: " + " ".join(str(v) for v in vals) + "\n")
        expected["objects"] += nobj
        expected["forced"] += int(nobs.sum())
        expected["sources"] += int(detected.sum())
    (folder / f"{name}.DUMP").write_text("".join(dump_lines))
    (folder.parent / "expected.json").write_text(json.dumps(expected))
    expected["directory"] = folder
    return expected


def read_synthetic(folder: Path) -> dict:
    """The expected counts of a set kept by an earlier ``--keep`` run."""
    expected = json.loads((folder / "expected.json").read_text())
    expected["directory"] = next(p for p in folder.iterdir() if p.is_dir())
    return expected


def _cpu_ticks(pid: int) -> tuple[int, int] | None:
    """(utime + stime, cutime + cstime) of a process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def server_cpu(server) -> float:
    """CPU seconds used so far by the PostgreSQL server: postmaster, live and finished backends.

    A backend reaped while the children are read would be counted nowhere, so the reading is
    repeated until the postmaster's count of its finished children stayed the same throughout.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    pm = int((server.datadir / "postmaster.pid").read_text().split()[0])
    for _ in range(10):
        own, reaped = _cpu_ticks(pm)
        children = [int(p) for p in Path(f"/proc/{pm}/task/{pm}/children").read_text().split()]
        live = sum(sum(t) for t in map(_cpu_ticks, children) if t)
        if _cpu_ticks(pm)[1] == reaped:
            break
    return (own + reaped + live) / ticks


def phases(marks: list[tuple[float, float, str]], seconds: float, pg_cpu: float) -> str:
    """The load's phases (wall s / PostgreSQL CPU s), from the times the loader printed its lines at."""
    def at(prefix: str, last: bool = False) -> tuple[float, float] | None:
        found = [(t, c) for t, c, line in marks if line.startswith(prefix)]
        return (found[-1] if last else found[0]) if found else None

    start = (0.0, 0.0)
    dropped, last_file = at("dropped "), at("file ", last=True)
    rebuild, rebuilt = at("re-creating "), at("re-created ")
    parts = []
    loading_from = start
    if dropped:
        parts.append(f"plan+checks+drop {dropped[0]:.2f} / {dropped[1]:.2f}")
        loading_from = dropped
    if last_file:
        parts.append(f"files {last_file[0] - loading_from[0]:.2f} / {last_file[1] - loading_from[1]:.2f}")
        end_truth = rebuild or (seconds, pg_cpu)
        parts.append(f"truth {end_truth[0] - last_file[0]:.2f} / {end_truth[1] - last_file[1]:.2f}")
    if rebuild and rebuilt:
        parts.append(f"index re-creation {rebuilt[0] - rebuild[0]:.2f} / {rebuilt[1] - rebuild[1]:.2f}")
    parts.append(f"total {seconds:.2f} / {pg_cpu:.2f}")
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="photometry (forced-source) rows")
    parser.add_argument("--files", type=int, default=16, help="HEAD/PHOT pairs")
    parser.add_argument("--nprocs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the synthetic files (path is printed)")
    parser.add_argument("--indexes", choices=("auto", "defer", "keep"), default="auto",
                        help="secondary indexes: auto (the loader's rule: deferred here, the tables are "
                             "empty), defer, keep")
    parser.add_argument("--data", type=Path, help="reuse the synthetic set kept by an earlier --keep run")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="desctom-snana-bench-"))
    server = None
    try:
        t0 = time.perf_counter()
        if args.data:
            expected = read_synthetic(args.data)
        else:
            expected = write_synthetic(work / "data", args.rows, args.files)
        size = sum(p.stat().st_size for p in expected["directory"].iterdir())
        pairs = len(list(expected["directory"].glob("*HEAD.FITS.gz")))
        print(f"synthetic set: {expected['objects']:,} objects, {expected['forced']:,} photometry rows, "
              f"{expected['sources']:,} detections in {pairs} file pairs ({size / 1e6:.0f} MB gzipped), "
              f"{'reused' if args.data else 'written'} in {time.perf_counter() - t0:.0f} s", flush=True)

        from desctom.testing.services import ThrowawayPostgres

        server = ThrowawayPostgres()
        server.init()
        server.start()
        os.environ["DATABASE_URL"] = server.url()
        os.environ["DESCTOM_HOME"] = str(work / "home")
        os.environ["DJANGO_SETTINGS_MODULE"] = "desctom.settings"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        call_command("migrate", verbosity=0)
        connections.close_all()

        from desctom.elasticc2.loaders.snana.runner import SnanaLoad

        quiet = []
        marks = []  # (seconds, PostgreSQL CPU seconds, line) at each line the loader prints

        def out(line: str) -> None:
            marks.append((time.perf_counter() - t1, server_cpu(server) - pg0, line))
            quiet.append(line)

        load = SnanaLoad([expected["directory"]], "ppdb", nprocs=args.nprocs, write=True, out=out,
                         indexes=args.indexes)
        load_before = f"{os.getloadavg()[0]:.2f}"
        pg0, own0 = server_cpu(server), os.times()
        t1 = time.perf_counter()
        totals = load.run()
        seconds = time.perf_counter() - t1
        pg_cpu, own1 = server_cpu(server) - pg0, os.times()
        loader_cpu = sum(own1[:4]) - sum(own0[:4])
        for line in quiet:
            if "secondary index" in line:
                print(line)
        print(quiet[-1] if quiet else "")

        with connection.cursor() as cur:
            counts = {}
            tables = (("objects", "ppdbdiaobject"), ("forced", "ppdbdiaforcedsource"),
                      ("sources", "ppdbdiasource"), ("alerts", "ppdbalert"), ("truth", "diaobjecttruth"))
            for key, table in tables:
                cur.execute(f"SELECT count(*) FROM elasticc2_{table}")  # noqa: S608 - fixed names
                counts[key] = cur.fetchone()[0]
        connections.close_all()
        want = {"objects": expected["objects"], "forced": expected["forced"], "sources": expected["sources"],
                "alerts": expected["sources"], "truth": expected["objects"]}
        if counts != want:
            print(f"COUNT MISMATCH: database {counts}, expected {want}")
            return 1
        rows = sum(counts.values())
        print(f"loaded {counts['forced']:,} forced sources ({rows:,} rows in all) with {args.nprocs} "
              f"processes in {seconds:.2f} s")
        print(f"forced-source rows/s: {counts['forced'] / seconds:,.0f}")
        print(f"all rows/s:           {rows / seconds:,.0f}")
        print(f"(loader's own clock: {totals.seconds:.2f} s)")
        print(f"CPU seconds during the load: PostgreSQL {pg_cpu:.1f}, loader processes {loader_cpu:.1f} "
              f"(machine: {os.cpu_count()} cores, 1-min load average before/after: {load_before}/"
              f"{os.getloadavg()[0]:.2f})")
        print("phases (wall s / PostgreSQL CPU s): " + phases(marks, seconds, pg_cpu))
        return 0
    finally:
        if server is not None:
            server.destroy()
        if args.keep:
            print(f"synthetic files kept in {work / 'data'}")
            shutil.rmtree(work / "home", ignore_errors=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
