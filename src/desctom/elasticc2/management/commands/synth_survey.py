"""``desctom synth_survey``: write a simulated LSST survey into the PPDB (or training) tables."""

from __future__ import annotations

import math

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from desctom.elasticc2.loaders.synth import DEFAULT_DAYS, DEFAULT_START_MJD, SynthError
from desctom.elasticc2.loaders.synth.runner import (
    DEFAULT_BATCH,
    DEFAULT_WORKERS,
    SynthInterrupted,
    synthesize,
)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Command(BaseCommand):
    help = ("Simulate an LSST-like survey (objects, light curves, detections, alerts, truth) and write it "
            "into the PPDB tables (or the training tables with --train). Deterministic for a seed; "
            "rerunning the same command adds nothing (or finishes an interrupted run).")

    def add_arguments(self, parser):
        parser.add_argument("--objects", type=int, required=True, metavar="N", help="number of objects")
        parser.add_argument("--seed", type=int, required=True, metavar="S", help="random seed (>= 0)")
        parser.add_argument("--start-mjd", type=float, default=DEFAULT_START_MJD, metavar="MJD",
                            help=f"first night of the survey (default {DEFAULT_START_MJD})")
        parser.add_argument("--days", type=float, default=DEFAULT_DAYS, metavar="D",
                            help=f"length of the survey in days (default {DEFAULT_DAYS:g})")
        parser.add_argument("--first-id", type=int, metavar="ID",
                            help="diaobject_id of the first object (default: where an earlier run of this "
                                 "survey put it, else the next free multiple of 1,000,000)")
        parser.add_argument("--train", action="store_true", help="write the training tables, not the PPDB")
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, metavar="N",
                            help=f"objects per transaction (default {DEFAULT_BATCH})")
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, metavar="N",
                            help="batches written side by side, each on its own database connection "
                                 f"(default {DEFAULT_WORKERS})")

    def handle(self, *args, **options):
        start_mjd, days = options["start_mjd"], options["days"]
        for name, value in (("--start-mjd", start_mjd), ("--days", days)):
            if not math.isfinite(value):
                raise CommandError(f"{name} must be a finite number, not {value}")
        try:
            result = synthesize(options["objects"], options["seed"], start_mjd=start_mjd, days=days,
                                first_id=options["first_id"], train=options["train"], batch=options["batch"],
                                workers=options["workers"], progress=self._progress)
        except SynthInterrupted as exc:
            raise CommandError(f"{exc}; run the same command again to finish", returncode=130) from None
        except SynthError as exc:
            raise CommandError(str(exc)) from None
        except (DatabaseError, psycopg.Error) as exc:
            raise CommandError(f"database error (the batch in progress was rolled back): {exc}") from None
        spec = result.spec
        ids = f"ids {spec.first_id}..{spec.first_id + spec.n_objects - 1}"
        if not result.objects_written:
            self._say(f"nothing to do: all {spec.n_objects:,} objects of this survey ({ids}) are already in "
                      f"the {result.family} tables; nothing written")
            return
        rows = ", ".join(f"{count:,} {key}" for key, count in result.rows.items())
        resumed = f" (besides {result.objects_present:,} written earlier)" if result.objects_present else ""
        self._say(f"wrote {result.objects_written:,} objects{resumed} to the {result.family} tables ({ids}): "
                  f"{rows} in {_duration(result.seconds)} "
                  f"({result.total_rows / max(result.seconds, 1e-9):,.0f} rows/s); simversion '{spec.tag}'")
        if result.reindex_seconds is not None:
            self._say("indexes rebuilt packed after the parallel first load in "
                      f"{_duration(result.reindex_seconds)}")

    def _progress(self, result, todo: int) -> None:
        done, elapsed = result.objects_written, result.seconds
        eta = elapsed / done * (todo - done) if done else 0.0
        self._say(f"{result.objects_present + done:,}/{result.spec.n_objects:,} objects  "
                  f"{result.total_rows:,} rows  {result.total_rows / max(elapsed, 1e-9):,.0f} rows/s  "
                  f"ETA {_duration(eta)}")

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
