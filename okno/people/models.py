import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A node of the company's tree; heads see their whole subtree."""

    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    # Members of a department see each other's customers (the usual set-up of a small
    # sales team); turned off, a manager sees only their own.
    share_contacts = models.BooleanField(_("members see each other's contacts"), default=True)
    # The business calendar its deadlines and callbacks count on; empty: the parent's, then the company's.
    calendar = models.ForeignKey("core.Calendar", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("calendar"))

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def subtree_ids(self) -> list[int]:
        """This department and all below it (trees are small: dozens of nodes)."""
        ids, frontier = [self.pk], [self.pk]
        while frontier:
            frontier = list(Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            ids.extend(frontier)
        return ids


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", _("administrator")
        HEAD = "head", _("head of department")
        MANAGER = "manager", _("manager")
        OPERATOR = "operator", _("operator")

    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="members",
        verbose_name=_("department"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MANAGER)
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    # Presence for lead routing: a manager who is away is skipped by round-robin.
    at_work = models.BooleanField(_("at work"), default=True)
    last_lead_at = models.DateTimeField(null=True, blank=True, editable=False)

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == self.Role.ADMIN

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        """Saves; a new password or a deactivation revokes the person's API tokens.

        Here rather than in the services, so that every path that changes a password counts:
        Okno's services, Django's `set_password` from `manage.py changepassword` or a script, and
        `set_unusable_password`. `set_password` leaves the raw password in `_password` until the
        save; Django's own rehash on login (a hasher's new iteration count) clears it first and is
        not a change. A `QuerySet.update()` of the password bypasses this, as it bypasses
        Django's password validators' `password_changed`; nothing in Okno does that."""
        reason = None
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and not self._state.adding:
            watched = update_fields is None or {"password", "is_active"} & set(update_fields)
            if watched:
                was = User.objects.filter(pk=self.pk).values("password", "is_active").first()
                if was is not None:
                    if was["is_active"] and not self.is_active:
                        reason = ApiToken.Revoked.DEACTIVATED
                    elif self._password is not None or (
                            was["password"] != self.password and not self.has_usable_password()):
                        reason = ApiToken.Revoked.PASSWORD
        super().save(*args, **kwargs)
        if reason is not None:
            ApiToken.revoke_all(self, reason=reason)


class ApiTokenQuerySet(models.QuerySet):
    def valid(self, now=None):
        """Tokens that authenticate: not revoked and not expired."""
        now = now or timezone.now()
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now), revoked_at__isnull=True)


class ApiToken(models.Model):
    """A per-user token for programs; only its hash is stored.

    Revoked and expired tokens keep their rows (who had access, and until when) and never
    authenticate again; a revoked token cannot be restored, only a new one issued."""

    class Revoked(models.TextChoices):
        OWNER = "owner", _("revoked by its owner")
        ADMIN = "admin", _("revoked by an administrator")
        PASSWORD = "password", _("the password was changed")
        DEACTIVATED = "deactivated", _("the user was deactivated")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    # Touched at most once a minute (okno/people/auth.py).
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=Revoked.choices, blank=True, default="")
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name or self.prefix} ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def create_with_key(cls, user: User, *, name: str = "", expires_at=None) -> tuple["ApiToken", str]:
        """A new token and its key: the key is shown once, only its hash is kept."""
        key = "okno_" + secrets.token_urlsafe(32)
        row = cls.objects.create(user=user, key_hash=cls.hash(key), prefix=key[5:13], name=name,
                                 expires_at=expires_at)
        return row, key

    @classmethod
    def issue(cls, user: User, name: str = "", expires_at=None) -> str:
        return cls.create_with_key(user, name=name, expires_at=expires_at)[1]

    @classmethod
    def revoke_all(cls, user: User, *, reason: str, by: User | None = None) -> int:
        """Revokes every token of the user still unrevoked (expired ones too, for a clear record)."""
        return cls.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason=reason, revoked_by=by)

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"
