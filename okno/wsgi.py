"""The web process's WSGI callable (granian, docs/setup.md).

Webhooks (/hooks/...) are answered below Django's handler by okno.inbox.hooks_wsgi: they are
the hot path, and the handler's machinery was a share of their cost none of them needs.
Everything else is Django's handler, untouched.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")
django_application = get_wsgi_application()

from okno.inbox.hooks_wsgi import with_hooks  # noqa: E402 - needs the apps loaded just above

application = with_hooks(django_application)
