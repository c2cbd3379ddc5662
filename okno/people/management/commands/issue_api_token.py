from django.core.management.base import BaseCommand, CommandError

from okno.people.models import ApiToken, User


class Command(BaseCommand):
    help = ("Prints a new API token for USERNAME (only its hash is stored: copy it now). "
            "See also `api_tokens list|issue|revoke`.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="manage.py", help="what uses it (shown in the token list)")

    def handle(self, *args, username: str, name: str, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named '{username}'")
        self.stdout.write(ApiToken.issue(user, name=name))
