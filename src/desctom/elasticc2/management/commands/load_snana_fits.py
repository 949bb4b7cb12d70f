"""``desctom load_snana_fits``: load SNANA HEAD/PHOT FITS pairs and truth DUMPs (reference §3.1)."""

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from desctom.elasticc2.loaders.snana.loader import one_line
from desctom.elasticc2.loaders.snana.runner import LoadInterrupted, SnanaLoad
from desctom.loaders.snana.reader import SnanaError
from desctom.loaders.snana.rows import LoadOptions


class Command(BaseCommand):
    help = ("Load SNANA simulation output (*HEAD.FITS.gz + *PHOT.FITS.gz pairs and <dirname>.DUMP truth) "
            "into the PPDB (--ppdb) or training (--train) tables. Without --do: read and report counts only.")

    def add_arguments(self, parser):
        defaults = LoadOptions()
        parser.add_argument("-d", "--directories", nargs="+", required=True, metavar="DIR",
                            help="SNANA output directories (each with HEAD/PHOT pairs and <dirname>.DUMP)")
        parser.add_argument("-f", "--files", nargs="+", metavar="FILE",
                            help="load only these HEAD files (names inside the directories); default all")
        parser.add_argument("-n", "--nprocs", type=int, default=5, help="worker processes (default 5)")
        parser.add_argument("-s", "--simversion", default=defaults.simversion,
                            help=f"stored in simversion (default {defaults.simversion})")
        parser.add_argument("-m", "--max-sources-per-object", type=int,
                            default=defaults.max_sources_per_object,
                            help="id multiplier: diaforcedsource_id = SNID * this + row (default 100000)")
        parser.add_argument("-p", "--photflag-detect", type=int, default=defaults.photflag_detect,
                            help="PHOTFLAG bit marking a detection (default 4096)")
        parser.add_argument("-z", "--snana-zeropoint", type=float, default=defaults.snana_zeropoint,
                            help="zeropoint of SNANA FLUXCAL (default 27.5)")
        parser.add_argument("-a", "--alert-zeropoint", type=float, default=defaults.alert_zeropoint,
                            help="zeropoint of the stored fluxes (default 31.4, i.e. nJy)")
        family = parser.add_mutually_exclusive_group(required=True)
        family.add_argument("--ppdb", action="store_true", help="load into the PPDB tables")
        family.add_argument("--train", action="store_true", help="load into the training tables")
        indexes = parser.add_mutually_exclusive_group()
        indexes.add_argument("--defer-indexes", action="store_true",
                             help="drop the secondary indexes of the five tables for the load and re-create "
                                  "them at the end (default: only if the files hold more forced sources "
                                  "than the table); primary keys and constraints always stay")
        indexes.add_argument("--keep-indexes", action="store_true",
                             help="never drop the secondary indexes (slower for big loads)")
        indexes.add_argument("--dont-disable-indexes-fks", action="store_true",
                             help="the original's name of --keep-indexes")
        parser.add_argument("--do", action="store_true", help="really write (default: read and report only)")

    def handle(self, *args, **options):
        if options["nprocs"] < 1:
            raise CommandError("--nprocs must be at least 1")
        if options["max_sources_per_object"] < 1:
            raise CommandError("--max-sources-per-object must be at least 1")
        load_options = LoadOptions(simversion=options["simversion"],
                                   max_sources_per_object=options["max_sources_per_object"],
                                   photflag_detect=options["photflag_detect"],
                                   snana_zeropoint=options["snana_zeropoint"],
                                   alert_zeropoint=options["alert_zeropoint"])
        index_mode = "auto"
        if options["defer_indexes"]:
            index_mode = "defer"
        elif options["keep_indexes"] or options["dont_disable_indexes_fks"]:
            index_mode = "keep"
        load = SnanaLoad(options["directories"], "ppdb" if options["ppdb"] else "train", load_options,
                         files=options["files"], nprocs=options["nprocs"], write=options["do"], out=self._say,
                         indexes=index_mode)
        connections.close_all()  # the worker processes are forked: they must not share our connection
        try:
            load.run()
        except SnanaError as exc:
            raise CommandError(str(exc)) from None
        except LoadInterrupted as exc:
            raise CommandError(str(exc), returncode=130) from None
        except psycopg.Error as exc:
            raise CommandError(f"database error: {one_line(exc)}") from None

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
