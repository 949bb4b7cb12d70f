"""``desctom partition_brokermessage``: hash-partition ``elasticc2_brokermessage`` by classifier, or undo it.

The work is in :mod:`desctom.elasticc2.workers.partitioning`; docs/scaling.md says when it pays.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction

from desctom.elasticc2.workers import partitioning


class Command(BaseCommand):
    help = ("Convert elasticc2_brokermessage in place into a table hash-partitioned by classifier_id "
            "(--partitions N), or back into a plain table (--plain); --status shows its form. Names, "
            "columns, indexes and answers stay the same. One transaction under an exclusive lock: ingest "
            "and readers of the table wait meanwhile; Ctrl-C leaves the table as it was.")

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--partitions", type=int, metavar="N",
                          help=f"partition into N parts (2-{partitioning.MAX_PARTITIONS}; "
                               f"{partitioning.DEFAULT_PARTITIONS} is a good start)")
        what.add_argument("--plain", action="store_true", help="make it a plain table again")
        what.add_argument("--status", action="store_true", help="print the number of partitions (0: plain)")

    def handle(self, *args, **options):
        began = time.monotonic()
        try:
            if options["status"]:
                with connection.cursor() as cursor:
                    count = partitioning.partition_count(cursor)
                self.stdout.write(f"{partitioning.TABLE}: " + (f"{count} hash partitions by classifier_id"
                                                             if count else "a plain table"))
                return
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '60s'")
                if options["plain"]:
                    moved = partitioning.to_plain(cursor, progress=self.stdout.write)
                    form = "a plain table"
                else:
                    moved = partitioning.to_partitioned(cursor, options["partitions"],
                                                        progress=self.stdout.write)
                    form = f"{options['partitions']} hash partitions by classifier_id"
        except partitioning.PartitioningError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"nothing was changed: {str(exc).strip()}") from None
        self.stdout.write(self.style.SUCCESS(
            f"{partitioning.TABLE} is now {form}: {moved:,} rows in {time.monotonic() - began:,.1f} s"))
