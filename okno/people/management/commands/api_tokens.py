"""`manage.py api_tokens list|issue|revoke`: API tokens from the shell (an administrator's tool)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from okno.people.models import ApiToken, User


class Command(BaseCommand):
    help = ("API tokens. list [USERNAME] [--all]: tokens (revoked and expired with --all); "
            "issue USERNAME --name NAME [--days N]: prints a new token once (only its hash is stored); "
            "revoke ID... | revoke --user USERNAME: revokes (rows stay, for the record).")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="list tokens")
        ls.add_argument("username", nargs="?")
        ls.add_argument("--all", action="store_true", help="revoked and expired ones too")
        issue = sub.add_parser("issue", help="print a new token for USERNAME")
        issue.add_argument("username")
        issue.add_argument("--name", default="", help="what uses it")
        issue.add_argument("--days", type=int, default=None, help="valid for N days (default: until revoked)")
        revoke = sub.add_parser("revoke", help="revoke tokens by id, or all of a user's")
        revoke.add_argument("ids", nargs="*", type=int)
        revoke.add_argument("--user", dest="revoke_user", default=None, help="every token of this username")

    def handle(self, *args, action: str, **options):
        return getattr(self, f"_{action}")(**options)

    def _user(self, username: str, *, active: bool = False) -> User:
        user = User.objects.filter(username=username).first()
        if user is None or (active and not user.is_active):
            raise CommandError(f"No {'active ' if active else ''}user named '{username}'")
        return user

    def _list(self, username=None, all=False, **options):  # noqa: A002
        rows = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if username:
            rows = rows.filter(user=self._user(username))
        if not all:
            rows = rows.valid()
        for t in rows:
            self.stdout.write("\t".join([
                str(t.pk), t.user.username, t.name or "-", f"okno_{t.prefix}...", t.status,
                f"created {t.created_at:%Y-%m-%d %H:%M}",
                f"used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used",
                f"expires {t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "no expiry",
            ] + ([f"revoked {t.revoked_at:%Y-%m-%d %H:%M} ({t.revoked_reason})"] if t.revoked_at else [])))

    def _issue(self, username, name="", days=None, **options):
        user = self._user(username, active=True)
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        self.stdout.write(ApiToken.issue(user, name=name or "manage.py", expires_at=expires_at))

    def _revoke(self, ids=(), revoke_user=None, **options):
        if not ids and not revoke_user:
            raise CommandError("Name token ids, or --user USERNAME")
        missing = set(ids) - set(ApiToken.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing:
            raise CommandError(f"No token with id {', '.join(map(str, sorted(missing)))}")
        user = self._user(revoke_user) if revoke_user else None
        count = 0
        if user is not None:
            count += ApiToken.revoke_all(user, reason=ApiToken.Revoked.ADMIN)
        if ids:
            count += ApiToken.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
                revoked_at=timezone.now(), revoked_reason=ApiToken.Revoked.ADMIN)
        self.stdout.write(f"{count} token(s) revoked")
