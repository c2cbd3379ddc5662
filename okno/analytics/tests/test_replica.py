"""Reports on a read replica: the rollup's reads go to `replica` when one is configured and not
lagging, to `default` otherwise; the router keeps writes and migrations on the primary."""

from okno.analytics.models_rollup import CallStat
from okno.analytics.replica import MAX_LAG, REPLICA, ReportsRouter, replica_forget, reports_db


def _with_replica(settings, mirror: bool = False) -> None:
    settings.DATABASES = {**settings.DATABASES, REPLICA: {**settings.DATABASES["default"],
                                                          "TEST": {"MIRROR": "default"} if mirror else {}}}


def test_without_a_replica_reports_read_the_primary(settings):
    assert REPLICA not in settings.DATABASES
    assert reports_db() == "default"


def test_a_replica_serves_the_rollup_until_it_lags(settings):
    # given a replica configured
    _with_replica(settings)
    replica_forget()
    # when it is a second behind, then reports read it
    assert reports_db(lag=lambda: 1.0, clock=lambda: 100.0) == REPLICA
    # and the lag read is trusted for a few seconds (no query per report)
    assert reports_db(lag=lambda: 1 / 0, clock=lambda: 101.0) == REPLICA
    # when it falls more than a minute behind, then reports read the primary
    assert reports_db(lag=lambda: MAX_LAG.total_seconds() + 1, clock=lambda: 200.0) == "default"
    # and a replica that cannot answer serves nothing
    assert reports_db(lag=lambda: 1 / 0, clock=lambda: 300.0) == "default"
    replica_forget()


def test_a_test_mirror_is_used_as_is(settings):
    _with_replica(settings, mirror=True)
    assert reports_db() == REPLICA


def test_the_router_keeps_writes_and_migrations_on_the_primary():
    router = ReportsRouter()
    assert router.db_for_write(CallStat) == "default"
    assert router.db_for_read(CallStat) is None  # the caller chooses (reports_db)
    assert router.allow_migrate(REPLICA, "analytics") is False
    assert router.allow_migrate("default", "analytics") is True
