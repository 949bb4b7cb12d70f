"""``desctom send_elasticc2_alerts``: stream PPDB alerts to Kafka up to a simulated day (reference §3.2)."""

from django.core.management.base import BaseCommand, CommandError

from desctom.elasticc2.workers.sender.clock import ClockError
from desctom.elasticc2.workers.sender.service import AlertSender, SenderError, SenderOptions


class Command(BaseCommand):
    help = ("Send the unsent ELAsTiCC2 alerts up to a simulated day to Kafka, in simulated-time order, and "
            "mark them sent once Kafka acknowledged them (at-least-once). Without --do: a dry run that "
            "reconstructs every alert it would send and reports counts.")

    def add_arguments(self, parser):
        defaults = SenderOptions()
        parser.add_argument("-d", "--through-day", type=float, metavar="MJD",
                            help="send unsent alerts whose source midpointtai <= MJD")
        parser.add_argument("-a", "--added-days", type=int, metavar="N",
                            help="instead of -d: send N more nights after the latest sent alert, through "
                                 "noon UTC (MJD x.5)")
        parser.add_argument("--start-day", type=float, metavar="MJD",
                            help="ignore alerts with midpointtai < MJD (and start the -a clock there at the "
                                 "earliest)")
        parser.add_argument("-k", "--kafka-server", metavar="SERVERS",
                            help="Kafka bootstrap servers (default: the system's own Kafka)")
        parser.add_argument("--wfd-topic", default=defaults.wfd_topic,
                            help=f"topic of non-DDF alerts (default {defaults.wfd_topic})")
        parser.add_argument("--ddf-full-topic", default=defaults.ddf_full_topic,
                            help="topic of DDF alerts with 365 days of history "
                                 f"(default {defaults.ddf_full_topic})")
        parser.add_argument("--ddf-limited-topic", default=defaults.ddf_limited_topic,
                            help="topic of DDF alerts with 30 days of history "
                                 f"(default {defaults.ddf_limited_topic})")
        parser.add_argument("-f", "--flush-every", type=int, default=defaults.flush_every, metavar="N",
                            help="wait for Kafka and mark alerts sent every N alerts "
                                 f"(default {defaults.flush_every})")
        parser.add_argument("-l", "--log-every", type=int, default=defaults.log_every, metavar="N",
                            help=f"report progress every N alerts (default {defaults.log_every})")
        parser.add_argument("-n", "--num-reconstruct-processes", type=int, default=defaults.nprocs,
                            metavar="N", help="worker processes building alerts; 0 = in this process "
                                              f"(default {defaults.nprocs})")
        parser.add_argument("--do", action="store_true", help="really send and mark (default: dry run)")

    def handle(self, *args, **options):
        for name in ("flush_every", "log_every"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        if options["num_reconstruct_processes"] < 0:
            raise CommandError("--num-reconstruct-processes must be at least 0")
        sender_options = SenderOptions(
            servers=options["kafka_server"], wfd_topic=options["wfd_topic"],
            ddf_full_topic=options["ddf_full_topic"], ddf_limited_topic=options["ddf_limited_topic"],
            flush_every=options["flush_every"], log_every=options["log_every"],
            nprocs=options["num_reconstruct_processes"], do=options["do"])
        try:
            sender = AlertSender(options["through_day"], options["added_days"], options["start_day"],
                                 sender_options, out=self._say)
            self._say(sender.run())
            if options["verbosity"] >= 2:
                self._say(sender.timings())
        except ClockError as exc:
            raise CommandError(str(exc)) from None
        except SenderError as exc:
            raise CommandError(str(exc), returncode=exc.returncode) from None

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
