"""A simulated campaign that runs by itself (``desctom up --demo``).

:class:`DemoCampaign` is the service ``up --demo`` supervises: on an empty PPDB it creates the
campaign's data (a synthetic survey from the project's own generator, or real SNANA output), then
advances the simulation clock one night every ``night_seconds`` by sending that night's alerts.
The fake broker, the broker poller and the known-table updater (other services) take it from
there. All state lives in the database (the clock is the latest sent alert), so a restart
continues where the campaign stopped; if the PPDB is emptied (``desctom demo reset``) the next
tick starts a new campaign.
"""

from __future__ import annotations

import signal
import tarfile
import threading
import time
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from desctom.core.demo import DemoOptions
from desctom.elasticc2.workers.sender.service import AlertSender, SenderError, SenderOptions

#: Length of the demo's synthetic survey: a year, so every night has alerts to show.
DEMO_SURVEY_DAYS = 365

__all__ = ["DemoCampaign", "DemoOptions", "all_alerts_sent", "ppdb_is_empty", "snana_dirs"]


def ppdb_is_empty() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT NOT EXISTS (SELECT 1 FROM elasticc2_ppdbdiaobject)")
        return cur.fetchone()[0]


def all_alerts_sent() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT NOT EXISTS (SELECT 1 FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NULL)")
        return cur.fetchone()[0]


def snana_dirs(paths: list[str], unpack_to: Path) -> list[Path]:
    """SNANA directories from ``paths``: directories as given, ``.tar``/``.tar.bz2``/``.tar.gz`` unpacked.

    A directory holding SNANA directories (``*_HEAD.FITS*`` one level down) stands for all of them.
    """
    dirs: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_file() and tarfile.is_tarfile(path):
            target = unpack_to / path.name.split(".tar")[0]
            if not target.exists():
                with tarfile.open(path) as tar:
                    tar.extractall(target, filter="data")
            path = target
        if not path.is_dir():
            raise ValueError(f"{raw}: not a directory or a tar file of SNANA output")
        if any(path.glob("*HEAD.FITS*")):
            dirs.append(path)
        else:
            found = sorted({p.parent for p in path.glob("**/*HEAD.FITS*")})
            if not found:
                raise ValueError(f"{raw}: no SNANA *HEAD.FITS files in it")
            dirs.extend(found)
    return dirs


class DemoCampaign:
    """Creates the campaign's data if there is none, then sends one night of alerts per tick."""

    def __init__(self, options: DemoOptions, data_dir: Path, out=print):
        self.options = options
        self.data_dir = data_dir
        self.out = out
        self._stop = threading.Event()
        self._finished_reported = False
        self._through: float | None = None

    def prepare(self) -> bool:
        """Fill an empty PPDB; False if it already holds a campaign."""
        if not ppdb_is_empty():
            return False
        opts = self.options
        started = time.monotonic()
        buf = StringIO()
        if opts.snana:
            dirs = snana_dirs(opts.snana, self.data_dir / "demo-data")
            self.out(f"demo: loading SNANA output from {', '.join(map(str, dirs))} ...")
            call_command("load_snana_fits", "-d", *map(str, dirs), "--ppdb", "--do", stdout=buf)
        else:
            self.out(f"demo: creating a synthetic survey of {opts.objects:,} objects over "
                     f"{DEMO_SURVEY_DAYS} nights (seed {opts.seed}) ...")
            call_command("synth_survey", "--objects", str(opts.objects), "--seed", str(opts.seed),
                         "--days", str(DEMO_SURVEY_DAYS), stdout=buf)
        last = (buf.getvalue().strip().splitlines() or [""])[-1]
        self.out(f"demo: campaign data ready in {time.monotonic() - started:.0f} s: {last}")
        self._finished_reported = False
        self._through = None
        return True

    def resend_lost(self) -> int:
        """Unmark alerts that were sent but never classified; the next night sends them again.

        The embedded Kafka keeps nothing across restarts: alerts (and classifications) in flight
        when the system stopped are gone. Only alerts without any broker message are unmarked, so
        nothing that was classified is sent twice.
        """
        with connection.cursor() as cur:
            cur.execute("""
                UPDATE elasticc2_ppdbalert a SET alertsenttimestamp = NULL
                WHERE a.alertsenttimestamp IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM elasticc2_brokermessage m WHERE m.alert_id = a.alert_id)""")
            lost = cur.rowcount
        if lost:
            self.out(f"demo: {lost:,} alerts sent before the restart never reached a broker (the embedded "
                     "Kafka keeps nothing across restarts); they go out again with the next night")
        return lost

    def night(self) -> int:
        """Send the next night's alerts; the number sent.

        The first night after a start follows the database (``-a 1`` from the latest sent alert);
        later nights advance the demo's own clock by one day each, so nights without alerts pass.
        """
        if self._through is None:
            sender = AlertSender(None, 1, None, SenderOptions(nprocs=0, do=True), out=lambda line: None)
        else:
            sender = AlertSender(self._through + 1, None, None, SenderOptions(nprocs=0, do=True),
                                 out=lambda line: None)
        summary = sender.run()
        self._through = sender.window.through_day
        if sender.sent:
            self.out(f"demo: night through MJD {self._through:.1f}: {summary}")
            self._finished_reported = False
        elif not self._finished_reported and all_alerts_sent():
            self.out("demo: every alert of the campaign has been sent (`desctom demo reset` starts anew)")
            self._finished_reported = True
        return sender.sent

    def run(self) -> None:
        """Tick until SIGTERM/SIGINT: prepare if empty, then one night every ``night_seconds``."""
        previous = {s: signal.signal(s, lambda *_: self._stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.out(f"demo: one night every {self.options.night_seconds:g} s")
            if not ppdb_is_empty():
                self.resend_lost()
            while not self._stop.is_set():
                tick = time.monotonic()
                try:
                    self.prepare()
                    if self._stop.is_set():
                        break
                    self.night()
                except SenderError as exc:
                    if exc.returncode in (130, 143):  # the signal reached the sender first
                        break
                    self.out(f"demo: this night failed, retrying next tick: {exc}")
                connection.close_if_unusable_or_obsolete()
                self._stop.wait(max(0.0, self.options.night_seconds - (time.monotonic() - tick)))
            self.out("demo: stopped")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
