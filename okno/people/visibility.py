"""The one place that says which customers a user may see.

UI, API and exports all filter through `contact_visibility_q`; a card outside it is
answered as missing (404), so that its existence is not disclosed.
"""

from django.db.models import Q

from okno.people.models import Department, User


def _subtree(user: User) -> list[int]:
    """The head's department and all below it, read once per user object (a request).

    A board asks the rule once per column and more: reading the tree each time made a head's
    board 50 queries against a manager's 18 (docs/deals-ui.md). Keyed by the department, so a
    user moved to another department in the same object's life gets the new tree."""
    cached = getattr(user, "_okno_subtree", None)
    if cached is None or cached[0] != user.department_id:
        cached = (user.department_id, Department.objects.get(pk=user.department_id).subtree_ids())
        user._okno_subtree = cached
    return cached[1]


def contact_visibility_q(user: User, prefix: str = "") -> Q:
    """A filter on Contact (or on a model reaching it through `prefix`, e.g. "contact__")."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    own = Q(**{f"{prefix}responsible_id": user.pk})
    if user.department_id is None:
        return own
    if user.role == User.Role.HEAD:
        return own | Q(**{f"{prefix}department_id__in": _subtree(user)})
    if user.department.share_contacts:
        return own | Q(**{f"{prefix}department_id": user.department_id})
    return own


def deal_visibility_q(user: User, prefix: str = "") -> Q:
    """A filter on Deal (or on a model reaching it through `prefix`, e.g. "deal__").

    The card's rule: a deal with a contact is visible exactly when its contact is. A deal
    without one is judged as a card would be, by its own responsible and department: admins,
    its responsible, heads of its department's subtree, and members of its department when the
    department shares contacts. (Deal carries `responsible_id` and `department_id` like Contact,
    so the same rule is reused; people imports no deals.)"""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    with_contact = Q(**{f"{prefix}contact__isnull": False}) & contact_visibility_q(user, prefix=f"{prefix}contact__")
    without = Q(**{f"{prefix}contact__isnull": True}) & contact_visibility_q(user, prefix=prefix)
    return with_contact | without


def users_visible_to(user: User) -> Q:
    """Whom a user may pick as responsible: admins anyone, heads their subtree, others themselves."""
    if user.is_admin:
        return Q()
    if user.role == User.Role.HEAD and user.department_id:
        return Q(department_id__in=_subtree(user))
    return Q(pk=user.pk)
