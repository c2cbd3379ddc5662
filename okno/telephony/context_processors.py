"""Whether the signed-in user can place calls from the UI (has an extension on an active PBX)."""

from django.http import HttpRequest

from okno.telephony.models import PbxExtension


def telephony(request: HttpRequest) -> dict:
    """Lazy: the query runs only on pages that show a number with a call button."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def can_call() -> bool:
        if not hasattr(request, "_telephony_can_call"):
            request._telephony_can_call = PbxExtension.objects.filter(user=user, channel__is_active=True).exists()
        return request._telephony_can_call

    return {"user_can_call": can_call}
