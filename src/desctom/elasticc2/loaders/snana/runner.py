"""Running a SNANA load: plan, quick checks, parallel file loads with progress, truth, summary.

Order of work, so that bad input is found before anything is written:

0. (``--do`` only) the load's advisory lock is taken and any secondary index an interrupted
   earlier load left missing is re-created (``indexes.py``);
1. every directory, HEAD/PHOT pair and DUMP is found and the DUMPs are parsed (parent);
2. every HEAD file is read and every PHOT file checked for completeness (worker pool);
3. every DUMP must name at least one object of this load or of the database;
4. (big loads) the secondary indexes of the five tables are saved and dropped;
5. the pairs are loaded, one transaction each, by the worker pool; the parent prints progress;
6. when all pairs of a directory are in, its truth rows are written;
7. the dropped indexes are re-created, also after an error or Ctrl-C.

Ctrl-C terminates the workers: their open transactions roll back, so every file is in the
database whole or not at all, and rerunning the same command completes the load.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import psycopg

from desctom.core import bulkcopy
from desctom.elasticc2.loaders.snana import loader
from desctom.elasticc2.loaders.snana.indexes import (
    IndexKeeper,
    rows_at_least,
    secondary_indexes,
    should_defer,
    state_path,
)
from desctom.elasticc2.loaders.snana.loader import (
    FileResult,
    PairCheck,
    TableFamily,
    TruthWriter,
    WorkerConfig,
)
from desctom.loaders.snana.reader import DumpTable, FilePair, SnanaDirectory, SnanaError, read_dump
from desctom.loaders.snana.rows import LoadOptions, TruthBuilder
from desctom.survey.columns import TRUTH_COLUMNS


class LoadInterrupted(Exception):
    """Ctrl-C during a load, after ``done`` of ``total`` files were reported loaded."""

    def __init__(self, done: int, total: int, message: str | None = None):
        super().__init__(message or f"interrupted after {done} of {total} files: each file is in the "
                         "database whole or not at all; rerun the same command to finish")
        self.done, self.total = done, total


@dataclass
class DirectoryPlan:
    """One directory of the load: the pairs to load and its truth."""

    directory: SnanaDirectory
    pairs: list[FilePair]
    dump: DumpTable
    truth: list[np.ndarray | None]
    snids: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))


@dataclass
class LoadTotals:
    """What a load wrote (or, on a dry run, would write)."""

    files: int = 0
    objects: int = 0
    skipped_objects: int = 0
    forced: int = 0
    sources: int = 0
    alerts: int = 0
    truth: int = 0
    truth_already: int = 0
    truth_unknown: int = 0
    seconds: float = 0.0

    def add(self, result: FileResult) -> None:
        self.files += 1
        self.objects += result.objects
        self.skipped_objects += result.skipped_objects
        self.forced += result.forced
        self.sources += result.sources
        self.alerts += result.alerts


class Progress:
    """One line per finished file with running totals, forced-source rows/s and ETA."""

    def __init__(self, out: Callable[[str], None], files: int, expected_rows: int, verb: str):
        self.out, self.files, self.expected_rows, self.verb = out, files, expected_rows, verb
        self.start = time.monotonic()
        self.done_rows = 0  # expected rows of finished files (loaded or skipped)

    def file_done(self, result: FileResult, totals: LoadTotals, expected_rows: int) -> None:
        self.done_rows += expected_rows
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = totals.forced / elapsed
        pace = self.done_rows / elapsed
        eta = (self.expected_rows - self.done_rows) / pace if pace > 0 else 0.0
        name = result.pair.name
        if result.objects == 0 and result.skipped_objects:
            what = f"file {name}: {result.skipped_objects:,} objects already loaded, skipped"
        else:
            what = (f"file {name}: {self.verb} {result.objects:,} objects, {result.forced:,} forced sources, "
                    f"{result.sources:,} sources, {result.alerts:,} alerts")
            if result.skipped_objects:
                what += f"; {result.skipped_objects:,} objects already loaded, skipped"
        self.out(f"{what}\n  [{totals.files}/{self.files} files, {totals.objects:,} objects, "
                 f"{totals.forced:,} forced rows, {rate:,.0f} rows/s, ETA {_clock(eta)}]")


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class SnanaLoad:
    """One run of ``load_snana_fits``: finds the files, checks them, loads them in parallel."""

    def __init__(self, directories: list[str | Path], family: str, options: LoadOptions | None = None,
                 files: list[str] | None = None, nprocs: int = 5, write: bool = False,
                 out: Callable[[str], None] = print, database: dict | None = None, indexes: str = "auto"):
        self.directories = directories
        self.family = TableFamily.named(family)
        self.options = options or LoadOptions()
        self.files = files
        self.nprocs = max(1, nprocs)
        self.write = write
        self.out = out
        self.database = database
        self.verb = "loaded" if write else "would load"
        if indexes not in ("auto", "defer", "keep"):
            raise ValueError(f"indexes must be auto, defer or keep, not {indexes!r}")
        self.indexes = indexes

    # -- planning (no database) ----------------------------------------------------------------------
    def plan(self) -> list[DirectoryPlan]:
        only = {Path(f).name for f in self.files} if self.files else None
        plans, seen, matched = [], set(), set()
        for path in self.directories:
            directory = SnanaDirectory(path)
            key = directory.path.resolve()
            if key in seen:
                continue
            seen.add(key)
            pairs = directory.pairs(only)
            if not pairs:
                continue
            matched.update(p.name for p in pairs)
            dump = read_dump(directory.dump)
            plans.append(DirectoryPlan(directory, pairs, dump, TruthBuilder().build(dump)))
        if only is not None and only - matched:
            raise SnanaError(f"{sorted(only - matched)[0]}: no such HEAD file in the given directories")
        if not plans:
            raise SnanaError("no HEAD/PHOT files to load")
        return plans

    # -- the run --------------------------------------------------------------------------------------
    def run(self) -> LoadTotals:
        """Repair, plan, check, (defer indexes,) load, write truth, (re-create indexes,) summarise.

        With ``write``: takes the load's advisory lock first and re-creates any secondary index an
        interrupted earlier load left missing; re-creates deferred indexes in a ``finally``.
        """
        start = time.monotonic()
        database = self.database
        if database is None:
            from django.conf import settings

            database = dict(settings.DATABASES["default"])
        extra = {} if self.write else {"options": "-c default_transaction_read_only=on"}
        # opened before the worker pool is forked: the workers inherit the socket but never use it
        with bulkcopy.connect(database, autocommit=True, **extra) as conn:
            keeper = IndexKeeper(conn, database, self.family.tables, self._state_path(conn), self.out,
                                 builders=min(self.nprocs, os.cpu_count() or 1))
            if self.write:
                keeper.lock()
                try:
                    keeper.restore(" that an interrupted load_snana_fits left missing")
                except KeyboardInterrupt:
                    raise LoadInterrupted(0, 0, "interrupted while re-creating indexes; nothing was loaded, "
                                                "rerun the same command") from None
            else:
                self._report_missing(keeper)
            self._done, self._total = 0, 0
            try:
                totals = self._load(conn, database, keeper)
            except BaseException:  # an error or Ctrl-C: the indexes come back, then the error goes on
                if self.write:
                    self._restore_after_failure(keeper)
                raise
            if self.write:
                try:
                    keeper.restore(" deferred during the load")
                except KeyboardInterrupt:
                    raise LoadInterrupted(self._done, self._total) from None
        totals.seconds = time.monotonic() - start
        self._summary(totals)
        return totals

    def _state_path(self, conn) -> Path:
        from desctom.core.config import load as load_config

        return state_path(load_config().run_dir, conn)

    def _report_missing(self, keeper: IndexKeeper) -> None:
        """Dry run: say if saved indexes are missing (a dry run never re-creates them)."""
        pending = keeper.missing()
        if not pending:
            return
        holder = keeper.lock_holder()
        if holder is not None:
            self.out(f"{len(pending)} secondary index(es) are missing while a load_snana_fits (PostgreSQL "
                     f"backend pid {holder}) is writing; it re-creates them when it ends")
        else:
            self.out(f"{len(pending)} secondary index(es) dropped by an interrupted load are missing (saved "
                     f"in {keeper.state}); the next run with --do re-creates them first")

    def _restore_after_failure(self, keeper: IndexKeeper) -> None:
        """Re-create deferred indexes after an error or Ctrl-C; a failure here is reported, not raised."""
        try:
            keeper.restore(" deferred during the load")
        except SnanaError as exc:
            self.out(str(exc))
        except KeyboardInterrupt:
            pass  # reported by the keeper; the next run re-creates them
        except psycopg.Error as exc:
            self.out(f"could not re-create the secondary indexes ({loader.one_line(exc)}); the next "
                     f"load_snana_fits --do re-creates them from {keeper.state}")

    def _load(self, conn, database: dict, keeper: IndexKeeper) -> LoadTotals:
        plans = self.plan()
        pairs = [p for plan in plans for p in plan.pairs]
        self._total = len(pairs)
        config = WorkerConfig(database, self.family, self.options, self.write, False)
        totals = LoadTotals()
        context = multiprocessing.get_context("fork")
        pool = context.Pool(min(self.nprocs, len(pairs)), initializer=loader.ignore_sigint)
        try:
            checks = self._check(pool, pairs, config)
            self._check_truth(conn, plans, checks)
            expected = {c.pair: c.rows for c in checks.values()}
            self._defer_indexes(conn, keeper, sum(expected.values()))
            if self.write:
                config = replace(config, skip_fk_checks=loader.can_skip_fk_checks(conn, self.family))
            progress = Progress(self.out, len(pairs), sum(expected.values()), self.verb)
            remaining = {id(plan): len(plan.pairs) for plan in plans}
            plan_of = {pair: plan for plan in plans for pair in plan.pairs}
            for result in pool.imap_unordered(loader.load_pair, [(p, config) for p in pairs]):
                if result.error:
                    self.out(f"stopped after {self._done} of {len(pairs)} files: each file is in the "
                             "database whole or not at all; fix the problem and rerun to complete the load")
                    raise SnanaError(result.error)
                self._done += 1
                totals.add(result)
                progress.file_done(result, totals, expected[result.pair])
                plan = plan_of[result.pair]
                remaining[id(plan)] -= 1
                if remaining[id(plan)] == 0:
                    self._truth(conn, plan, totals)
            pool.close()
            pool.join()  # workers exit normally and close their connections
        except KeyboardInterrupt:
            raise LoadInterrupted(self._done, len(pairs)) from None
        finally:
            pool.terminate()  # after an error or Ctrl-C: open transactions roll back
            pool.join()
        return totals

    def _defer_indexes(self, conn, keeper: IndexKeeper, incoming: int) -> None:
        """Drop the secondary indexes for the load if ``self.indexes`` (and the rule) says so."""
        if self.indexes == "keep":
            return
        if self.indexes == "defer":
            why = "--defer-indexes"
        else:
            existing = rows_at_least(conn, self.family.forced, incoming)  # reads at most `incoming` rows
            if not should_defer(incoming, existing):
                return
            why = (f"{incoming:,} incoming forced sources > "
                   f"{'no' if existing == 0 else f'{existing:,}'} existing")
        if not self.write:
            n = len(secondary_indexes(conn, self.family.tables))
            self.out(f"would drop {n} secondary index(es) during the load and re-create them after ({why})")
            return
        try:
            n = keeper.drop()
        except OSError as exc:
            self.out(f"cannot save the index definitions ({exc}): loading with the secondary indexes kept")
            return
        except psycopg.errors.LockNotAvailable:
            self.out("the tables are in use by other sessions (no lock within "
                     f"{keeper.lock_timeout}): loading with the secondary indexes kept")
            return
        if n:
            self.out(f"dropped {n} secondary index(es) for the load, re-created at the end ({why}); "
                     f"definitions saved in {keeper.state}")

    def _check(self, pool, pairs: list[FilePair], config: WorkerConfig) -> dict[FilePair, PairCheck]:
        checks = {}
        errors = []
        for check in pool.imap_unordered(loader.check_pair, [(p, config) for p in pairs]):
            if check.error:
                errors.append(check.error)
            checks[check.pair] = check
        if errors:
            more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
            raise SnanaError(sorted(errors)[0] + more)
        return checks

    def _check_truth(self, conn, plans: list[DirectoryPlan], checks: dict[FilePair, PairCheck]) -> None:
        """Every DUMP must name at least one object of this load or of the database."""
        for plan in plans:
            plan.snids = np.unique(np.concatenate([checks[p].snids for p in plan.pairs]))
            cids = np.unique(plan.dump.cids)
            in_load = np.isin(cids, plan.snids)
            in_db = loader.existing_ids(conn, self.family.objects, cids[~in_load])
            known = int(in_load.sum()) + len(in_db)
            if known == 0:
                raise SnanaError(f"{plan.dump.path}: none of its {len(cids):,} CIDs is an object of this "
                                 "load or of the database")

    def _truth(self, conn, plan: DirectoryPlan, totals: LoadTotals) -> None:
        writer = TruthWriter(conn, self.family)
        rows = len(plan.truth[TRUTH_COLUMNS.index("diaobject_id")])
        try:
            if self.write:
                known, inserted = writer.write(plan.truth)
            else:
                known, inserted = writer.preview(plan.truth, plan.snids)
        except (ValueError, psycopg.Error) as exc:
            reason = loader.one_line(exc)
            raise SnanaError(f"{plan.dump.path}: cannot load the truth rows ({reason})") from None
        unknown, already = rows - known, known - inserted
        totals.truth += inserted
        totals.truth_already += already
        totals.truth_unknown += unknown
        line = f"truth {plan.dump.path.name}: {self.verb} {inserted:,} rows"
        if already:
            line += f", {already:,} already loaded"
        if unknown:
            line += f", {unknown:,} skipped (no such object)"
        self.out(line)

    def _summary(self, t: LoadTotals) -> None:
        rate = t.forced / t.seconds if t.seconds > 0 else 0.0
        head = "loaded" if self.write else "dry run (nothing written; add --do to load): would load"
        self.out(f"{head} {t.objects:,} objects, {t.sources:,} sources, {t.forced:,} forced sources, "
                 f"{t.alerts:,} alerts, {t.truth:,} truth rows from {t.files} files in {t.seconds:.1f} s "
                 f"({rate:,.0f} forced rows/s)")
        if t.skipped_objects or t.truth_already:
            self.out(f"already loaded, skipped: {t.skipped_objects:,} objects, "
                     f"{t.truth_already:,} truth rows")
        if t.truth_unknown:
            self.out(f"truth rows skipped because their object does not exist: {t.truth_unknown:,}")
