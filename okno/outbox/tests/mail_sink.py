"""An e-mail backend for a worker process under test: appends each message's Message-ID to a file.

Counting lines counts what the "SMTP server" received; one write per message, appended, so a
process killed mid-batch leaves whole lines only."""

import os

from django.core.mail.backends.base import BaseEmailBackend


class SinkBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        path = os.environ["OKNO_TEST_MAIL_SINK"]
        for message in email_messages:
            line = (message.extra_headers.get("Message-ID", "") + "\n").encode()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return len(email_messages)
