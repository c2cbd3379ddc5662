"""The one check that a person is an administrator, for views and services alike."""

from django.core.exceptions import PermissionDenied


def require_admin(user, message: str = "Only an administrator may do this") -> None:
    """Raises PermissionDenied unless `user` is an administrator (views answer 403, the API 403)."""
    if not getattr(user, "is_admin", False):
        raise PermissionDenied(message)
