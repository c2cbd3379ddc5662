"""Claiming durable work rows in batches, with a lease, by many workers at once.

A row is claimable when its status is the ready one, its `run_after` has come and its lease
(`locked_until`) is empty or ran out: a worker killed mid-batch leaves its rows to be claimed
again once the lease expires. PostgreSQL claims with `FOR UPDATE SKIP LOCKED` so concurrent
workers take disjoint batches without waiting; SQLite has one writer at a time (IMMEDIATE
transactions), so a plain select-then-conditional-update inside one transaction is exact.

With prepared statements (settings.PG_PREPARED_STATEMENTS) PostgreSQL would, after five runs,
reuse one generic plan that does not know which status is asked for. Ready rows are a sliver
of a table of done ones, yet the generic estimate is an average status, so the plan walks the
primary key filtering the status: 136 ms instead of 0.2 ms at a million done events
(docs/benchmarks.md). The claim is planned for its values each time instead.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone


def claim_batch(
    model: type[models.Model], *, ready: Q, limit: int, lease_seconds: float, order_by: str = "pk"
) -> list[int]:
    """Leases up to `limit` ready rows to this worker and returns their ids (attempts counted)."""
    now = timezone.now()
    claimable = ready & Q(run_after__lte=now) & (Q(locked_until__isnull=True) | Q(locked_until__lt=now))
    until = now + timedelta(seconds=lease_seconds)
    with transaction.atomic():
        if settings.PG_PREPARED_STATEMENTS:
            with connection.cursor() as cur:
                cur.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        qs = model.objects.filter(claimable).order_by(order_by)
        if settings.IS_POSTGRES:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:limit])
        if ids:
            model.objects.filter(pk__in=ids).update(locked_until=until, attempts=F("attempts") + 1)
    return ids
