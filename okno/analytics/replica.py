"""Reports on a read replica (docs/analytics.md, "Reports on a read replica").

With `DATABASE_REPLICA_URL` set, settings add the database alias `replica` (a streaming replica of
the primary; in tests a mirror of `default`) and this router. The rollup's reads (its state and
its sums: past days, the bulk of a long report) go to the replica through `reports_db()`; today's
live part, every write, sessions and permissions stay on the primary, so an open report is as
fresh as before however far the replica lags. A replica that lags more than MAX_LAG is not used.

The choice is made where the query is made, not by the router: the same model (`Call`) is read
for today on the primary and, through the rollup, for past days on the replica. The router only
keeps writes and migrations off the replica.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings

REPLICA = "replica"
# A replica further behind than this serves no report: marks of changed days would arrive late.
MAX_LAG = timedelta(minutes=1)
# How long the replica's lag, once read, is trusted: one query per process every few seconds.
LAG_TTL_SECONDS = 5.0

_lag_seen: dict[str, float] = {"at": float("-inf"), "seconds": 0.0}


def _replica_lag_seconds() -> float:
    """Seconds since the replica applied the primary's last transaction (0 on a primary, which has
    no replay to lag behind)."""
    from django.db import connections

    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)")
        return float(cursor.fetchone()[0])


def reports_db(*, lag: Callable[[], float] | None = None, clock=time.monotonic) -> str:
    """The database alias the rollup's reads use: `replica` when one is configured and not
    further behind than MAX_LAG, else `default`."""
    if REPLICA not in settings.DATABASES:
        return "default"
    if settings.DATABASES[REPLICA].get("TEST", {}).get("MIRROR"):
        return REPLICA  # a test mirror of default: nothing to lag
    now = clock()
    if now - _lag_seen["at"] >= LAG_TTL_SECONDS:
        try:
            _lag_seen["seconds"] = (lag or _replica_lag_seconds)()
        except Exception:  # a replica that cannot answer serves no report
            _lag_seen["seconds"] = float("inf")
        _lag_seen["at"] = now
    return REPLICA if _lag_seen["seconds"] <= MAX_LAG.total_seconds() else "default"


def replica_forget() -> None:
    """Reads the lag again at the next report (tests)."""
    _lag_seen.update(at=float("-inf"), seconds=0.0)


class ReportsRouter:
    """Keeps writes and migrations on the primary; reads go where the caller says (`using`)."""

    def db_for_read(self, model, **hints):
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one data set: the replica is a copy of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
