"""``desctom load_elasticc_snana DIR...``: fill the ELAsTiCC 1 tables from SNANA FITS directories."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from desctom.elasticc.loaders.snana import load_directories
from desctom.loaders.snana.rows import LoadOptions


class Command(BaseCommand):
    help = ("Load SNANA HEAD/PHOT FITS pairs (and each directory's <dirname>.DUMP truth) into the "
            "ELAsTiCC 1 tables (elasticc_*), v0.9 semantics. Objects already loaded are skipped.")

    def add_arguments(self, parser):
        parser.add_argument("directories", nargs="+", type=Path, help="SNANA output directories")
        parser.add_argument("-s", "--simversion", default="elasticc-v0.9", help="simVersion of the objects")
        parser.add_argument("--photflag-detect", type=int, default=4096, help="PHOTFLAG bit of a detection")

    def handle(self, *args, **opts):
        options = LoadOptions(simversion=opts["simversion"], photflag_detect=opts["photflag_detect"])
        counts = load_directories(opts["directories"], options)
        self.stdout.write(f"files {counts.files}, objects {counts.objects} "
                          f"(skipped {counts.skipped_objects}), sources {counts.sources}, "
                          f"forced sources {counts.forced}, alerts {counts.alerts}, "
                          f"truth {counts.truth}, object truth {counts.objecttruth}")
        if counts.errors:
            raise CommandError("\n".join(counts.errors))
