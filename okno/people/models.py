import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
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


class ApiToken(models.Model):
    """A per-user token for programs; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> str:
        key = "okno_" + secrets.token_urlsafe(32)
        cls.objects.create(user=user, key_hash=cls.hash(key), prefix=key[5:13])
        return key
