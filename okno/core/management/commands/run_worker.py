from django.core.management.base import BaseCommand

from okno.core import worker


class Command(BaseCommand):
    help = "Runs the drain loops (inbound events, duplicate scan, ...) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every drain once and exit")
        parser.add_argument("--only", nargs="*", help="names of drains to run")

    def handle(self, *args, once: bool = False, only=None, **options):
        if once:
            for name, count in worker.run_once().items():
                self.stdout.write(f"{name}: {count}")
            return
        worker.run_forever(only=set(only) if only else None)
