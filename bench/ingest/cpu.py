"""CPU seconds the processes of one measurement used, read from /proc around it.

The ingest share moves with whatever else runs on the two cores (±6 points between runs on a
loaded machine); CPU per request by process says where the time went and moves less. Read:
the web server's process group, the database's server processes serving the bench's database
(PostgreSQL backends, from pg_stat_activity), and the load generator (the bench process's own
CPU for its Python client and the raw baseline's threads; wrk's from RUSAGE_CHILDREN).
"""

import os
import resource
import time

TICK = os.sysconf("SC_CLK_TCK")


def seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def group_pids(pgid: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) == pgid:
                    pids.append(int(name))
            except OSError:
                pass
    return pids


def backend_pids() -> list[int]:
    """PostgreSQL's backends of this database other than the bench's own; none on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


class Meter:
    """CPU of the web group, the database's backends and this process (or its children) between
    start() and stop(); backends that appear meanwhile count from zero, ones that exit are lost,
    so the raw baseline reads its own backends before it closes them (raw.py)."""

    def __init__(self, *, web_pgid: int | None = None, children: bool = False):
        self.web_pgid, self.children = web_pgid, children

    def start(self) -> "Meter":
        self.web0 = {p: seconds(p) for p in group_pids(self.web_pgid)} if self.web_pgid else {}
        self.db0 = {p: seconds(p) for p in backend_pids()}
        self.client0 = self._client()
        return self

    def _client(self) -> float:
        if self.children:
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            return ru.ru_utime + ru.ru_stime
        return time.process_time()

    def stop(self, requests: int) -> dict:
        """µs of CPU per request: client, web, database."""
        client = self._client() - self.client0
        web = sum(seconds(p) - self.web0.get(p, 0.0) for p in group_pids(self.web_pgid)) if self.web_pgid else 0.0
        db = sum(seconds(p) - self.db0.get(p, 0.0) for p in backend_pids())
        per = 1e6 / max(requests, 1)
        return {"client_us": round(client * per), "web_us": round(web * per), "db_us": round(db * per)}
