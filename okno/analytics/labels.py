"""Names for the reports' group keys, shared by the calls, chats and process reports."""

from okno.people.models import User

# Past this many employees, every user's name is read: a long IN list costs more to build than
# the rows it saves.
LABELS_BY_ID = 50


def user_names(ids: list) -> dict:
    """{user id: name} in one query of names only (whole user rows cost more than the rest of a
    report by employee); the name as User.display_name gives it."""
    if not ids:
        return {}
    users = User.objects.order_by()
    users = users.filter(pk__in=ids) if len(ids) <= LABELS_BY_ID else users
    return {pk: display_name(first, last, username)
            for pk, first, last, username in users.values_list("pk", "first_name", "last_name", "username")}


def display_name(first: str, last: str, username: str) -> str:
    """User.display_name from the three fields, without a whole user row."""
    return f"{first} {last}".strip() or username
