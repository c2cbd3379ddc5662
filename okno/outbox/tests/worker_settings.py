"""Settings of the worker process that test_outbox_kill.py kills: a short lease, e-mails to a file sink."""

from okno.settings import *  # noqa: F403

# A killed worker's rows come back after 2 s instead of 3 minutes.
OKNO_OUTBOX_LEASE_SECONDS = 2
EMAIL_BACKEND = "okno.outbox.tests.mail_sink.SinkBackend"
