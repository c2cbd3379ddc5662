"""`make bench`: runs every bench/bench_*.py on SQLite and PostgreSQL, prints a table and
writes bench/results/<bench>.json.

Each benchmark runs in a child process per database (settings read DATABASE_URL once), in
its own database: var/bench.sqlite3 and the PostgreSQL database `okno_bench` (bench_import:
var/bench-import.sqlite3 and `okno_bench_import`, bench_cdr and bench_robots likewise, see OWN_DATABASE).
Figures are reported beside a raw baseline measured in the same run where the issue asks.
"""

import argparse
import json
import os
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATABASES = {
    "sqlite": f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}",
    "postgres": os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/okno_bench"),
}


# A benchmark whose issue defines the base it runs on gets a database of its own: the import's
# "100,000 rows into a base of 50,000 cards" must not run beside bench_duplicates' million
# cards (on SQLite that tripled its time: every row's duplicate check met their blocks).
# bench_cdr likewise: its calls and cards are its own, and a million cards beside them would only
# make each chunk's look-up of numbers slower than the office ever sees.
# bench_robots likewise: a million waiting deadlines and runs, and the outbox rows and pushes its
# parts write, are its own; nobody else's rows should sit in the drains' claims it measures.
OWN_DATABASE = {"bench_import", "bench_cdr", "bench_robots", "bench_analytics", "bench_analytics_reports",
                "bench_search"}


def database_url(name: str, db: str) -> str:
    url = DATABASES[db]
    if name not in OWN_DATABASE:
        return url
    suffix = name.removeprefix("bench_")
    return url.replace("bench.sqlite3", f"bench-{suffix}.sqlite3") if db == "sqlite" else f"{url}_{suffix}"


def bench_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "bench")]) if m.name.startswith("bench_"))


def run_child(name: str, db: str, scale: str) -> list[dict]:
    url = database_url(name, db)
    if db == "postgres":
        from bench.child import ensure_pg_database

        ensure_pg_database(url)
    env = dict(os.environ, DATABASE_URL=url, BENCH_SCALE=scale)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.child", name, db], cwd=ROOT, env=env, capture_output=True, text=True
    )
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        return [{"metric": "error", "value": f"exit {proc.returncode}", "target": "", "ok": False}]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--db", choices=[*DATABASES, "all"], default="all")
    parser.add_argument("--scale", choices=["full", "small"], default=os.environ.get("BENCH_SCALE", "full"),
                        help="small: a quick run at reduced sizes, to check the benchmarks themselves")
    args = parser.parse_args()
    names = args.names or bench_names()
    dbs = list(DATABASES) if args.db == "all" else [args.db]
    if "postgres" in dbs:
        from bench.child import ensure_pg_database

        ensure_pg_database(DATABASES["postgres"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    table: list[tuple] = []
    failed = False
    for name in names:
        per_db = {}
        for db in dbs:
            started = time.time()
            rows = run_child(name, db, args.scale)
            per_db[db] = {"rows": rows, "seconds": round(time.time() - started, 1)}
            for row in rows:
                table.append((name, db, row["metric"], row["value"], row.get("target", ""), row.get("ok")))
                failed |= row.get("ok") is False
        path = RESULTS / f"{name}.json"
        # A run on one database keeps the other database's last figures of the same scale.
        previous = json.loads(path.read_text()) if path.exists() else {}
        kept = previous.get("databases", {}) if previous.get("scale") == args.scale else {}
        for result in per_db.values():
            result["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        out = {"benchmark": name, "scale": args.scale, "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "databases": {**kept, **per_db}}
        path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    widths = [max(len(str(r[i])) for r in [("bench", "db", "metric", "value", "target", "ok"), *table])
              for i in range(6)]
    line = "  ".join
    print(line(h.ljust(w) for h, w in zip(("bench", "db", "metric", "value", "target", "ok"), widths, strict=True)))
    for r in table:
        ok = {True: "yes", False: "NO", None: ""}[r[5]]
        print(line(str(v).ljust(w) for v, w in zip((*r[:5], ok), widths, strict=True)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
