import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")

# One ASGI entry: Django, with /push/stream answered as a coroutine per page (okno.push.asgi).
from okno.push.asgi import application  # noqa: E402, F401
