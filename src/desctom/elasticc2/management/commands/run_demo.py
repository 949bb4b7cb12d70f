"""``desctom run_demo``: the simulated campaign service that ``desctom up --demo`` supervises."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from desctom.core import config
from desctom.elasticc2.workers.demo import DemoCampaign, DemoOptions


class Command(BaseCommand):
    help = ("Run a simulated campaign: create its data if the PPDB is empty (a synthetic survey, or "
            "--snana output), then send one night of alerts every --night-seconds until stopped.")

    def add_arguments(self, parser):
        defaults = DemoOptions()
        parser.add_argument("--objects", type=int, default=defaults.objects,
                            help=f"objects of the synthetic survey (default {defaults.objects})")
        parser.add_argument("--seed", type=int, default=defaults.seed, help="its random seed")
        parser.add_argument("--snana", nargs="+", default=[], metavar="PATH",
                            help="load this SNANA output instead (directories or .tar[.bz2|.gz] files)")
        parser.add_argument("--night-seconds", type=float, default=defaults.night_seconds,
                            help=f"real seconds per simulated night (default {defaults.night_seconds:g})")

    def handle(self, *args, **opts):
        if opts["objects"] < 1 or opts["seed"] < 0 or opts["night_seconds"] <= 0:
            raise CommandError("--objects must be positive, --seed not negative, --night-seconds positive")
        options = DemoOptions(objects=opts["objects"], seed=opts["seed"], snana=opts["snana"],
                              night_seconds=opts["night_seconds"])
        try:
            campaign = DemoCampaign(options, config.load().home, out=self._say)
            campaign.run()
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
