import logging
import signal
import threading

from django.core.management.base import BaseCommand

from okno.telephony.ami_listener import ami_listeners_run


class Command(BaseCommand):
    help = ("Listens to every active Asterisk channel over AMI and stores its call events for the worker; "
            "runs until SIGTERM or Ctrl-C. Two of these on two machines are safe: nothing is stored twice.")

    def add_arguments(self, parser):
        parser.add_argument("--channel", type=int, action="append", dest="channels",
                            help="only this channel id (repeatable)")
        parser.add_argument("--reload-seconds", type=float, default=30.0,
                            help="how often new, changed or deactivated channels are picked up")

    def handle(self, *args, channels=None, reload_seconds: float = 30.0, verbosity: int = 1, **options):
        # Connects, logins and drops are worth seeing; the root logger shows warnings only.
        logging.getLogger("okno.telephony.ami_listener").setLevel(logging.INFO if verbosity >= 1 else logging.WARNING)
        stop = threading.Event()

        def on_signal(signum, _frame):
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            ami_listeners_run(stop=stop, channel_ids=channels, reload_seconds=reload_seconds)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
