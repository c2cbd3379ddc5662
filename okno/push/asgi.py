"""The push process's ASGI application: Django for HTTP, and the lifespan protocol answered.

Served by granian (`scripts/push.sh`); only /push/ is routed to it in production, the rest of
the site stays on WSGI (docs/architecture.md, "Live pushes").
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()


async def application(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        # Django's handler refuses anything but HTTP; the server only needs to hear "ready".
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await django_application(scope, receive, send)
