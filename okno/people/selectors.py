"""Reads of people and departments for pages and forms."""

from django.db.models import Count

from okno.people.models import Department


def department_tree() -> list[Department]:
    """All departments in tree order, each with `depth` for indenting."""
    by_parent: dict[int | None, list[Department]] = {}
    for d in Department.objects.annotate(member_count=Count("members")):
        by_parent.setdefault(d.parent_id, []).append(d)
    out: list[Department] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for d in by_parent.get(parent_id, []):
            d.depth, d.indent = depth, "\u2003" * depth
            out.append(d)
            walk(d.pk, depth + 1)

    walk(None, 0)
    return out
