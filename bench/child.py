"""One benchmark on one database, in its own process: prints its rows as JSON on the last line."""

import importlib
import json
import os
import sys


def ensure_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(f'create database "{name}"')


def scale() -> str:
    return os.environ.get("BENCH_SCALE", "full")


def main() -> None:
    name, db = sys.argv[1], sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    module = importlib.import_module(f"bench.{name}")
    rows = module.run(db=db, scale=scale())
    print(json.dumps(rows, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
