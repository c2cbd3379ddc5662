import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from okno.inbox.models import Channel
from okno.telephony.cdr_import import ERRORS_KEPT, CdrImportRefused, cdr_import_check, cdr_import_file


class Command(BaseCommand):
    help = ("Imports an Asterisk cdr_csv file (Master.csv) into an Asterisk channel's calls: back-fill or a "
            "batch path. Safe to run again on the same or an overlapping file: nothing is duplicated.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the Master.csv file (no header row)")
        parser.add_argument("--channel", required=True, help="the Asterisk channel's id or name")
        parser.add_argument("--gmt", action="store_true",
                            help="dates are GMT (cdr.conf usegmtime=yes); default: the channel's cdr_usegmtime")
        parser.add_argument("--tz", help="the PBX's time zone for local dates, e.g. Europe/Moscow "
                                         "(default: the channel's timezone setting, else TIME_ZONE)")
        parser.add_argument("--show-errors", type=int, default=ERRORS_KEPT, help="how many bad lines to list")

    def handle(self, *args, path: str, channel: str, gmt: bool = False, tz: str | None = None,
               show_errors: int = ERRORS_KEPT, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        target = _channel(channel)
        try:
            cdr_import_check(target)
        except CdrImportRefused as exc:
            raise CommandError(str(exc)) from None
        started = time.monotonic()
        try:
            report = cdr_import_file(channel=target, path=file, gmt=True if gmt else None, tz=tz,
                                     errors_kept=show_errors)
        except CdrImportRefused as exc:
            raise CommandError(str(exc)) from None
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{file}: {report.read} lines read in {seconds:.1f} s; calls: {report.calls_created} created, "
            f"{report.calls_updated} updated, {report.calls_unchanged} unchanged; "
            f"{report.contacts_created} contacts created; {report.errors} bad lines")
        for number, reason in report.first_errors:
            self.stdout.write(f"  line {number}: {reason}")
        if report.errors > len(report.first_errors):
            self.stdout.write(f"  … and {report.errors - len(report.first_errors)} more bad lines")


def _channel(value: str) -> Channel:
    """A channel by id, else by exact name (which must then be unambiguous)."""
    if value.isdigit():
        found = Channel.objects.filter(pk=int(value)).first()
        if found is not None:
            return found
    named = list(Channel.objects.filter(name=value)[:2])
    if not named:
        raise CommandError(f"No channel with id or name '{value}'")
    if len(named) > 1:
        raise CommandError(f"Several channels are named '{value}': give the id")
    return named[0]
