from django.conf import settings
from django.http import HttpRequest


def push(request: HttpRequest) -> dict:
    return {"push_url": settings.OKNO_PUSH_URL}
