import resource
import time
from pathlib import Path

from django.core.management.base import BaseCommand

from okno.contacts.duplicates import duplicates_scan, match_keys_rebuild


class Command(BaseCommand):
    help = "Scans dirty contacts for duplicates; --full re-scans the whole base."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="mark every contact dirty first")
        parser.add_argument("--reindex", action="store_true", help="rebuild every contact's blocking keys first")

    def handle(self, *args, full: bool = False, reindex: bool = False, **options):
        started = time.monotonic()
        if reindex:
            self.stdout.write(f"re-indexed {match_keys_rebuild()} contacts")
        handled = duplicates_scan(full=full or reindex)
        self.stdout.write(f"scanned {handled} contacts in {time.monotonic() - started:.1f} s, "
                          f"peak memory {peak_mib():.0f} MiB")


def peak_mib() -> float:
    """This process's peak resident memory. VmHWM, unlike ru_maxrss, does not count what the
    parent held before exec (a benchmark that forks from a process holding its data set)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
