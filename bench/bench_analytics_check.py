"""Correctness of the calls, chats and process reports (issue 16): 1,000 random (period, grouping, comparison,
filters, viewer) combinations answered through the rollup (whole months, built days, marked days,
days built with other settings, today's sums and the live rest) against a plain SQL computation
over the raw call rows (okno/analytics/tests/test_rollup_random.py), with the heat map's random
check against the live heat map and today's sums against the live report beside it, on the
database the benchmark runs on. Small: the tests' own 150 combinations.

It runs those tests (their data is made to hold every path: calls on the stroke of midnight, in
progress, changed after their day was built, a threshold changed with a third of the days rebuilt)
rather than a second copy of them; the row says how many combinations were checked and whether
every one was equal."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["okno/analytics/tests/test_rollup_random.py", "okno/analytics/tests/test_rollup_heatmap.py",
         "okno/analytics/tests/test_rollup_today.py", "okno/analytics/tests/test_chats_rollup.py",
         "okno/analytics/tests/test_chats_rollup_today.py", "okno/analytics/tests/test_process_rollup.py"]


def run(*, db: str, scale: str) -> list[dict]:
    combinations = 1000 if scale == "full" else 150
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS], cwd=ROOT,
                          env={**os.environ, "OKNO_ROLLUP_COMBINATIONS": str(combinations)},
                          capture_output=True, text=True)
    seconds = round(time.monotonic() - began, 1)
    lines = proc.stdout.strip().splitlines()
    summary = lines[-1] if lines else proc.stderr.strip()[-200:]
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
    return [
        {"metric": "commit", "value": head, "target": "", "ok": None},
        {"metric": "random calls reports against plain SQL; chats and process reports from their rollups "
                   "against live",
         "value": combinations, "target": "1,000 combinations each", "ok": None},
        {"metric": "all equal", "value": summary, "target": "passed", "ok": proc.returncode == 0},
        {"metric": "seconds", "value": seconds, "target": "", "ok": None},
    ]
