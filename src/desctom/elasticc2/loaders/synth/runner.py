"""Generating and writing a whole survey batch by batch: what ``desctom synth_survey`` runs.

A survey's objects carry its name in ``simversion`` (:attr:`SurveySpec.tag`), so a rerun finds what
an earlier run wrote: a complete survey is left alone, an interrupted one gets only its missing
objects. Ids that belong to anything else stop the run before it writes a row.

Each batch (objects with all their rows) is one transaction. With ``workers`` > 1 that many threads,
each with its own database connection, generate and write batches side by side (PostgreSQL's
index and foreign-key work is the bottleneck, one core per connection). Ctrl-C cancels the batches
in flight: whole batches only stay.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from django.db import connections, transaction

from desctom.elasticc2.loaders.synth.cadence import Schedules
from desctom.elasticc2.loaders.synth.spec import SurveySpec, SynthError
from desctom.elasticc2.loaders.synth.survey import Generator
from desctom.elasticc2.loaders.synth.writer import FAMILIES, WRITE_ORDER, Tables, family_name

ID_ROUNDING = 1_000_000
DEFAULT_BATCH = 5000
DEFAULT_WORKERS = 2


class SynthInterrupted(SynthError):
    """Ctrl-C during :func:`synthesize`; ``result`` says what was written (whole batches only)."""

    def __init__(self, result: SynthResult):
        super().__init__(f"interrupted: {result.objects_written:,} objects written in whole batches")
        self.result = result


@dataclass
class SynthResult:
    """What :func:`synthesize` did."""

    spec: SurveySpec
    family: str
    objects_present: int  # objects of this survey already in the tables before the run
    objects_written: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WRITE_ORDER, 0))
    seconds: float = 0.0
    reindex_seconds: float | None = None  # set when the indexes were rebuilt after a parallel first load

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def next_free_id(using: str = "default") -> int:
    """The first id after every PPDB and training object, rounded up to a multiple of 1,000,000."""
    with connections[using].cursor() as cur:
        cur.execute("SELECT greatest((SELECT max(diaobject_id) FROM elasticc2_ppdbdiaobject), "
                    "(SELECT max(diaobject_id) FROM elasticc2_trainingdiaobject))")
        highest = cur.fetchone()[0] or 0
    return -(-(highest + 1) // ID_ROUNDING) * ID_ROUNDING


def plan(spec_args: dict, first_id: int | None, family: str,
         using: str = "default") -> tuple[SurveySpec, list[tuple[int, int]]]:
    """Choose the ids of a survey and find which of its objects are still missing.

    Returns (spec with its first id, missing object index ranges [lo, hi)). Raises
    :class:`SynthError` if the id range holds objects of anything else.
    """
    table = FAMILIES[family]["objects"]
    tag = SurveySpec(first_id=1, **spec_args).tag
    with connections[using].cursor() as cur:
        if first_id is None:
            cur.execute(f"SELECT min(diaobject_id) FROM {table} WHERE simversion = %s", [tag])
            first_id = cur.fetchone()[0] or next_free_id(using)
        spec = SurveySpec(first_id=first_id, **spec_args)
        last_id = first_id + spec.n_objects - 1
        cur.execute(f"SELECT diaobject_id, simversion = %s FROM {table} "
                    "WHERE diaobject_id BETWEEN %s AND %s", [tag, first_id, last_id])
        found = cur.fetchall()
    foreign = sum(1 for _, ours in found if not ours)
    if foreign:
        raise SynthError(f"the ids {first_id}..{last_id} already hold {foreign:,} objects of another "
                         f"survey or load ({table}); nothing written. Choose another --first-id, e.g. "
                         f"{next_free_id(using)}, or leave it out to use the next free range")
    missing = np.ones(spec.n_objects, bool)
    missing[np.array([object_id for object_id, _ in found], dtype=np.int64) - first_id] = False
    edges = np.flatnonzero(np.diff(np.r_[0, missing.astype(np.int8), 0]))
    return spec, [(int(lo), int(hi)) for lo, hi in zip(edges[::2], edges[1::2], strict=True)]


def synthesize(n_objects: int, seed: int, *, start_mjd: float | None = None, days: float | None = None,
               first_id: int | None = None, train: bool = False, batch: int = DEFAULT_BATCH,
               workers: int = 1, using: str = "default",
               progress: Callable[[SynthResult, int], None] | None = None) -> SynthResult:
    """Generate and write a survey batch by batch (one transaction per batch).

    ``first_id`` None: where an earlier run of the same survey put it, else the next free range.
    Objects already written by an earlier run of the same survey are skipped. ``progress(result,
    objects_to_write)`` is called after every batch. ``workers`` > 1 writes batches in parallel
    threads with their own connections (so not inside the caller's transaction). Ctrl-C raises
    :class:`SynthInterrupted`.
    """
    for name, value in (("batch size", batch), ("number of workers", workers)):
        if not isinstance(value, int) or value < 1:
            raise SynthError(f"the {name} must be a positive integer, not {value!r}")
    spec_args = {"n_objects": n_objects, "seed": seed}
    if start_mjd is not None:
        spec_args["start_mjd"] = start_mjd
    if days is not None:
        spec_args["days"] = days
    SurveySpec(first_id=1, **spec_args)  # validate before touching the database
    family = family_name(train)
    spec, missing = plan(spec_args, first_id, family, using)
    todo = sum(hi - lo for lo, hi in missing)
    result = SynthResult(spec, family, spec.n_objects - todo)
    batches = [(lo, min(lo + batch, hi)) for lo0, hi in missing for lo in range(lo0, hi, batch)]
    if batches:
        parallel = workers > 1 and len(batches) > 1
        first_load = parallel and _empty(family, using)
        run = _run_parallel if parallel else _run_here
        run(spec, batches, result, todo, min(workers, len(batches)), using, progress)
        if first_load:
            started = time.perf_counter()
            reindex(family, using)
            result.reindex_seconds = time.perf_counter() - started
        analyze(result.family, using)
    return result


def _empty(family: str, using: str) -> bool:
    with connections[using].cursor() as cur:
        cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {FAMILIES[family]['objects']})")
        return cur.fetchone()[0]


def reindex(family: str, using: str = "default") -> None:
    """Rebuild the family's indexes. Parallel workers insert interleaved id ranges, which splits
    B-tree pages in the middle and leaves them half full (the forced sources' primary key came out
    ~1.5x its packed size); an index built from the loaded table is packed. Done after a parallel
    load into empty tables only: nothing else uses them yet."""
    with connections[using].cursor() as cur:
        for table in FAMILIES[family].values():
            cur.execute(f"REINDEX TABLE {table}")


def analyze(family: str, using: str = "default") -> None:
    """Refresh the planner's statistics of the family's tables: fresh bulk data misleads it."""
    with connections[using].cursor() as cur:
        for table in FAMILIES[family].values():
            cur.execute(f"ANALYZE {table}")


def _record(result: SynthResult, counts: dict[str, int], objects: int, started: float) -> None:
    result.objects_written += objects
    for key, value in counts.items():
        result.rows[key] += value
    result.seconds = time.perf_counter() - started


def _run_here(spec, batches, result, todo, _workers, using, progress) -> None:
    """Write in the calling thread (inside its transaction, if any); generate the next batch meanwhile."""
    generator, tables = Generator(spec), Tables(using, result.family)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synth-generate") as pool:
        pending = pool.submit(generator.slice, *batches[0])
        try:
            for i in range(len(batches)):
                survey = pending.result()
                if i + 1 < len(batches):
                    pending = pool.submit(generator.slice, *batches[i + 1])
                with transaction.atomic(using=using):
                    counts = tables.write(survey)
                _record(result, counts, survey.n_objects, started)
                if progress:
                    progress(result, todo)
        except KeyboardInterrupt:
            pending.cancel()
            result.seconds = time.perf_counter() - started
            raise SynthInterrupted(result) from None


def _run_parallel(spec, batches, result, todo, workers, using, progress) -> None:
    """Write with ``workers`` threads, each with its own connection; Ctrl-C cancels what is in flight."""
    schedules = Schedules(spec.seed, spec.start_mjd, spec.days)
    queue, lock, stop = iter(batches), threading.Lock(), threading.Event()
    in_flight: dict[int, object] = {}
    errors: list[BaseException] = []
    started = time.perf_counter()

    def work(number: int) -> None:
        generator, tables = Generator(spec, schedules), Tables(using, result.family)
        try:
            while not stop.is_set():
                with lock:
                    job = next(queue, None)
                if job is None:
                    return
                survey = generator.slice(*job)
                if stop.is_set():
                    return
                with transaction.atomic(using=using):
                    in_flight[number] = tables.raw()
                    counts = tables.write(survey)
                with lock:
                    in_flight.pop(number, None)
                    _record(result, counts, survey.n_objects, started)
                    if progress:
                        progress(result, todo)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            if not stop.is_set():
                errors.append(exc)
                stop.set()
        finally:
            in_flight.pop(number, None)
            connections[using].close()

    threads = [threading.Thread(target=work, args=(i,), name=f"synth-writer-{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    try:
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for raw in list(in_flight.values()):
            getattr(raw, "cancel_safe", raw.cancel)()  # the batch's COPY fails and rolls back
        for thread in threads:
            thread.join()
        result.seconds = time.perf_counter() - started
        raise SynthInterrupted(result) from None
    if errors:
        raise errors[0]
