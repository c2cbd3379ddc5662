"""Settings of the worker processes bench_robots starts: e-mails over SMTP to the bench's sink.

Only what the bench needs differs from okno.settings: Django's SMTP backend pointed at the
aiosmtpd sink on 127.0.0.1 (BENCH_SMTP_PORT), and the outbox lease (BENCH_OUTBOX_LEASE_SECONDS,
the kill -9 run shortens it so a killed worker's sends come back within seconds).
"""

import os

from okno.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["BENCH_SMTP_PORT"])
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = "robots@okno.bench"
OKNO_OUTBOX_LEASE_SECONDS = int(os.environ.get("BENCH_OUTBOX_LEASE_SECONDS", "180"))
