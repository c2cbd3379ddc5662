"""Import of contacts from XLSX with duplicate checks: 100,000 rows (small: 5,000) in under 2 minutes.

The file is realistic Russian data (Faker ru_RU) with phones in five formats (Excel numbers
among them), ~2% bad rows, ~5% rows repeating an existing customer's phone in another
format and ~2% repeating an earlier row of the file; the base already holds 50,000 cards
(small: 2,500). The run happens in a fresh process, so its peak memory (ru_maxrss) is the
import's own; an idle Django process is measured beside it. Baselines from the same run:
openpyxl alone reading the file, and a plain bulk insert of as many bare cards.

Run: `make bench` or `.venv/bin/python -m bench bench_import --db sqlite --scale small`.
"""

import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"full": (100_000, 50_000), "small": (5_000, 2_500)}
TARGET_SECONDS_PER_100K = 120
BENCH_USER = "bench-import"


def _phone_formats(digits: str) -> list:
    """One mobile number (10 digits, 9xx...) as people type it, and as Excel stores it."""
    d = digits
    return [f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", f"8{d}", d, f"+7 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}",
            int("7" + d)]


def _people(n: int, rng: random.Random):
    from faker import Faker

    fake = Faker("ru_RU")
    fake.seed_instance(rng.randint(0, 10**6))
    numbers = rng.sample(range(10**9), n)
    companies = [fake.company() for _ in range(max(50, n // 20))]
    cities = [fake.city_name() for _ in range(200)]
    for i in range(n):
        male = rng.random() < 0.5
        last = fake.last_name_male() if male else fake.last_name_female()
        first = fake.first_name_male() if male else fake.first_name_female()
        middle = fake.middle_name_male() if male else fake.middle_name_female()
        yield {"last": last, "first": first, "middle": middle, "digits": f"9{numbers[i]:09d}",
               "email": f"{fake.user_name()}{i}@{fake.free_email_domain()}" if rng.random() < 0.6 else "",
               "company": rng.choice(companies) if rng.random() < 0.5 else "", "city": rng.choice(cities)}


def _cleanup(user) -> None:
    from okno.contacts.models import Contact

    Contact.objects.filter(created_by=user).delete()


def _seed_existing(n: int, user, rng: random.Random) -> list[str]:
    from django.db import transaction

    from okno.contacts.import_bulk import contacts_bulk_create
    from okno.contacts.services import ContactData

    digits = []
    batch = []
    for p in _people(n, rng):
        digits.append(p["digits"])
        batch.append(ContactData(
            first_name=p["first"], last_name=p["last"], middle_name=p["middle"], city=p["city"],
            company=p["company"] or None, emails=[p["email"]] if p["email"] else [],
            phones=[("+7" + p["digits"], "", "mobile", p["digits"])]))
        if len(batch) == 1000:
            with transaction.atomic():
                contacts_bulk_create(actor=user, items=batch)
            batch = []
    with transaction.atomic():
        contacts_bulk_create(actor=user, items=batch)
    return digits


def _write_xlsx(path: Path, n: int, existing: list[str], rng: random.Random) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Клиенты")
    sheet.append(["ФИО", "Телефон", "E-mail", "Компания", "Город", "Источник", "Теги"])
    earlier: list[str] = []
    for p in _people(n, random.Random(rng.random())):
        roll = rng.random()
        digits = p["digits"]
        if roll < 0.05:
            digits = rng.choice(existing)  # a customer already in the base, typed another way
        elif roll < 0.07 and earlier:
            digits = rng.choice(earlier)  # the same customer twice in the file
        phone = rng.choice(_phone_formats(digits))
        email = p["email"]
        name = f"{p['last']} {p['first']} {p['middle']}"
        if 0.07 <= roll < 0.08:
            phone = "12-34"  # not a phone
        elif 0.08 <= roll < 0.09:
            email = "нет почты"
        earlier.append(digits)
        sheet.append([name, phone, email, p["company"], p["city"], rng.choice(["сайт", "звонок", "выставка", ""]),
                      rng.choice(["", "", "vip", "опт, регион"])])
    book.save(path)


def _rss_mb(kb: int) -> float:
    return round(kb / 1024, 1)


def _child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.bench_import", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(*, db: str, scale: str) -> list[dict]:
    from django.core.files.uploadedfile import UploadedFile
    from django.db import transaction
    from openpyxl import load_workbook

    from okno.contacts import imports
    from okno.contacts.models import Contact, ImportJob
    from okno.people.models import User

    rows, existing_n = SIZES[scale]
    rng = random.Random(20240501)
    user, _ = User.objects.get_or_create(username=BENCH_USER, defaults={"role": User.Role.ADMIN})
    _cleanup(user)
    existing = _seed_existing(existing_n, user, rng)
    path = ROOT / "var" / f"bench-import-{scale}.xlsx"
    _write_xlsx(path, rows, existing, rng)

    # Baseline 1: openpyxl alone, reading every cell of the same file.
    started = time.perf_counter()
    book = load_workbook(path, read_only=True, data_only=True)
    read_rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    read_seconds = time.perf_counter() - started

    # Baseline 2: a plain bulk insert of as many bare cards, 1,000 per transaction.
    started = time.perf_counter()
    for start in range(0, rows, 1000):
        with transaction.atomic():
            Contact.objects.bulk_create([Contact(first_name=f"b{i}", created_by=user)
                                         for i in range(start, min(rows, start + 1000))])
    insert_seconds = time.perf_counter() - started
    Contact.objects.filter(created_by=user, first_name__startswith="b", last_name="").delete()

    # The import itself: upload (store) and the worker's inspection (header, sample, row count)
    # here, the run in a fresh process.
    started = time.perf_counter()
    with path.open("rb") as fh:
        job = imports.import_job_create(actor=user, upload=UploadedFile(fh, name=path.name, size=path.stat().st_size),
                                        on_duplicate=ImportJob.OnDuplicate.SKIP)
    job = imports.import_job_inspect(job_id=job.pk)
    upload_seconds = time.perf_counter() - started
    result = _child("run-job", str(job.pk))
    idle = _child("idle")
    job.refresh_from_db()
    total = upload_seconds + result["seconds"]
    target = TARGET_SECONDS_PER_100K * rows / 100_000
    accounted = job.created_count + job.merged_count + job.skipped_count + job.error_count
    _cleanup(user)
    path.unlink(missing_ok=True)
    job.file.delete(save=False)
    job.delete()
    return [
        {"metric": "rows in file", "value": read_rows - 1, "target": rows, "ok": read_rows - 1 == rows},
        {"metric": "existing cards", "value": existing_n, "target": "", "ok": None},
        {"metric": "job status", "value": job.status, "target": "done", "ok": job.status == "done"},
        {"metric": "rows accounted (created+merged+skipped+errors)", "value": accounted, "target": rows,
         "ok": accounted == rows},
        {"metric": "created / skipped duplicates / error rows",
         "value": f"{job.created_count} / {job.skipped_count} / {job.error_count}", "target": "", "ok": None},
        {"metric": "upload (inspect + preview) s", "value": round(upload_seconds, 2), "target": "", "ok": None},
        {"metric": "import run s", "value": round(result["seconds"], 2), "target": "", "ok": None},
        {"metric": "import total s", "value": round(total, 2), "target": f"< {target:.0f}", "ok": total < target},
        {"metric": "import rows/s", "value": round(rows / result["seconds"]), "target": "", "ok": None},
        {"metric": "import peak RSS MB (fresh process)", "value": _rss_mb(result["maxrss_kb"]), "target": "",
         "ok": None},
        {"metric": "idle Django process RSS MB", "value": _rss_mb(idle["maxrss_kb"]), "target": "", "ok": None},
        {"metric": "baseline: openpyxl read s", "value": round(read_seconds, 2), "target": "", "ok": None},
        {"metric": "baseline: plain bulk insert s", "value": round(insert_seconds, 2), "target": "", "ok": None},
        {"metric": "import run / (read + insert)", "value": round(result["seconds"] / (read_seconds + insert_seconds),
                                                                  1), "target": "", "ok": None},
    ]


def _main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")
    import django

    django.setup()
    if sys.argv[1] == "run-job":
        from okno.contacts.imports import import_job_run

        started = time.perf_counter()
        import_job_run(job_id=int(sys.argv[2]))
        seconds = time.perf_counter() - started
    else:
        seconds = 0.0
    # VmHWM is this process's own peak; ru_maxrss would carry the parent's over exec.
    status = Path("/proc/self/status").read_text()
    peak_kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")),
                   resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(json.dumps({"seconds": seconds, "maxrss_kb": peak_kb}))


if __name__ == "__main__":
    _main()
