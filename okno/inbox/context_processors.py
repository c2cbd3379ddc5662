"""The top bar's inbox figures: failed inbound events for administrators."""

from django.http import HttpRequest

from okno.inbox.models import InboundEvent


def inbox(request: HttpRequest) -> dict:
    """Lazy: the count query runs only when a page's top bar shows it, and only for administrators.

    One indexed count (the (status, run_after) index) per full page; htmx fragments never ask.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_admin:
        return {}

    def failed_count() -> int:
        if not hasattr(request, "_inbox_failed_count"):
            request._inbox_failed_count = InboundEvent.objects.filter(status=InboundEvent.Status.FAILED).count()
        return request._inbox_failed_count

    return {"inbox_failed_count": failed_count}
