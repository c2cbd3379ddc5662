"""`manage.py analytics_rollup --rebuild [--from YYYY-MM-DD] [--to YYYY-MM-DD]`: builds the calls,
chats and process reports' rollups again from their rows (after an upgrade, a restore,
or to refresh a range at once instead of waiting for the worker); without --rebuild, one pass of
each worker's drain. docs/analytics.md."""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from okno.analytics.chats_rollup import chats_build_today, chats_rebuild, chats_rollup_drain
from okno.analytics.process_rollup import process_rebuild, process_rollup_drain
from okno.analytics.rollup import rollup_check_changed, rollup_drain, rollup_rebuild
from okno.analytics.rollup_today import rollup_build_today


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name}: a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Builds the calls, chats and process reports' daily rollups (all past days, or --from/--to)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="rebuild every past day of the range")
        parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: the first call's)")
        parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: yesterday)")

    def handle(self, *args, rebuild: bool, start: str | None, end: str | None, **options) -> None:
        first, last = _day(start, "from"), _day(end, "to")
        if first and last and first > last:
            raise CommandError("--from must not be after --to")
        began = time.monotonic()
        if not rebuild:
            if first or last:
                raise CommandError("--from and --to go with --rebuild")
            marked = rollup_check_changed(force=True)
            built = rollup_drain()
            chats, process = chats_rollup_drain(), process_rollup_drain()
            self.stdout.write(f"marked {marked} days changed, built {built} days of calls, {chats} of chats "
                              f"and {process} of the process")
            return
        out = rollup_rebuild(start=first, end=last)
        rollup_build_today()  # and today's settled calls, which the worker refreshes every minute
        self.stdout.write(f"calls: built {out['days']} days and {out['months']} months, {out['rows']} rows, "
                          f"in {time.monotonic() - began:.1f} s")
        began = time.monotonic()
        out = chats_rebuild(start=first, end=last)
        chats_build_today()
        self.stdout.write(f"chats: built {out['days']} days and {out['months']} months, {out['rows']} rows, "
                          f"in {time.monotonic() - began:.1f} s")
        began = time.monotonic()
        out = process_rebuild(start=first, end=last)
        process_rollup_drain()  # and today's settled rows
        self.stdout.write(f"process: built {out['days']} days and {out['months']} months, {out['rows']} rows, "
                          f"in {time.monotonic() - began:.1f} s")
