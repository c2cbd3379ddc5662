"""The sidebar's lead and deal items and their counters (registered from DealsConfig.ready).

Each counter is one COUNT on an index: my open leads by the assignee's foreign-key index,
the department's queue of unassigned leads by the department's.
"""

from django.db.models import Count, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from okno.core import navigation
from okno.core.navigation import Counter
from okno.deals.models import Lead
from okno.people.models import Department, User


def my_leads_counter(user: User) -> Counter | None:
    """My open leads; red while some are unread."""
    row = Lead.objects.filter(assignee_id=user.pk, status__in=Lead.OPEN).aggregate(
        open=Count("pk"), unread=Count("pk", filter=Q(read_at__isnull=True)))
    if not row["open"]:
        return None
    title = gettext("%(open)s open, %(unread)s unread") % row
    return Counter(row["open"], alert=bool(row["unread"]), title=title)


def queue_departments(user: User) -> list[int] | None:
    """The departments whose queue of unassigned leads the user answers for: an administrator
    every one (None), a head their subtree, a member their own department."""
    if user.is_admin:
        return None
    if not user.department_id:
        return []
    if user.role == User.Role.HEAD:
        return Department.objects.get(pk=user.department_id).subtree_ids()
    return [user.department_id]


def unassigned_leads(user: User):
    qs = Lead.objects.filter(assignee__isnull=True, status__in=Lead.OPEN)
    departments = queue_departments(user)
    return qs if departments is None else qs.filter(department_id__in=departments)


def unassigned_counter(user: User) -> Counter | None:
    count = unassigned_leads(user).count()
    return Counter(count, alert=True, title=gettext("unassigned leads waiting")) if count else None


def register() -> None:
    W = navigation.WORK
    navigation.register_item(W, "my_leads", _("My leads"), "deals:leads", order=20, counter=my_leads_counter)
    navigation.register_item(W, "unassigned", _("Unassigned"), "deals:leads_all", order=25,
                             counter=unassigned_counter, visible=navigation.heads_and_admins,
                             query="assignee=none")
    navigation.register_item(W, "all_leads", _("All leads"), "deals:leads_all", order=27,
                             visible=navigation.heads_and_admins)
    navigation.register_item(W, "deals", _("Deals"), "deals:board_default", order=30,
                             match=("/deals/", "/pipelines/"))
    # Pipeline settings (the lost reasons' list is linked from its page).
    navigation.register_item(navigation.SETTINGS, "pipelines", _("Pipelines"), "deals:pipelines_settings",
                             order=45, visible=navigation.admins_only,
                             match=("/settings/pipelines/", "/settings/lost-reasons/"))
