"""Benchmark: a 10,000-row contact sheet (.xlsx), dry run then import. Target: under 15 s for both together.

The steps are the admin's: the preview reads the file and keeps its rows with the upload; the
confirm imports those rows (the file is not parsed twice).

    make bench-import                             # PostgreSQL on 127.0.0.1 (a throwaway test_… database)
    DATABASE_URL=sqlite:///… make bench-import    # SQLite (a throwaway file)

Prints the seconds of each step, the ratio to openpyxl alone reading the same file, and the number of
queries of each step (a fixed number per batch of rows, never one per row or cell).
"""

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROWS = 10_000
TARGET_SECONDS = 15.0

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def build_sheet(municipalities):
    """Return the .xlsx bytes of a sheet as an office writes it: a title row, then ROWS rows of contacts."""
    import openpyxl

    from imports.normalise import EXPORT_HEADERS

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Kommuneoverleger – benchmark"])
    sheet.append(list(EXPORT_HEADERS.values()))
    for i in range(ROWS):
        number, name = municipalities[i % len(municipalities)]
        sheet.append(
            [
                int(number),  # as Excel stores it: 301, not 0301
                name,
                f"Lege Benchmark {i}",
                f"9{i:07d} / 7{i % 1000:03d} {i % 10000:04d}",
                f"lege{i}@example.no",
                str(1_000_000 + i),
                f"Vara Benchmark {i}",
                40_000_000 + i,  # a number cell
                f"vara{i}@example.no",
                "",
                f"Smitte Benchmark {i % 500}",
                f"4{(i % 500) + 5_000_000:07d} (kun dagtid)",
                f"smitte{i % 500}@example.no",
                "",
                "Interkommunalt samarbeid" if i % 7 == 0 else "",
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def openpyxl_read(data):
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = sum(1 for _row in workbook.active.iter_rows(values_only=True))
    workbook.close()
    return count


def timed(function):
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        start, cpu = time.perf_counter(), time.process_time()
        result = function()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return result, seconds, cpu, len(queries)


def main():
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import translation

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = os.path.join(tempfile.mkdtemp(), "bench.sqlite3")
    print(f"Database: {connection.vendor} (throwaway test database, migrated with the reference data)")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    translation.activate("en")
    try:
        run()
    finally:
        connection.creation.destroy_test_db(settings.DATABASES["default"]["NAME"], verbosity=0)


def run():
    from imports.services import run_import, sheet_from_json, sheet_to_json
    from registry.models import Appointment, Municipality, Phone, Physician

    municipalities = list(Municipality.objects.active().order_by("number").values_list("number", "name"))
    data = build_sheet(municipalities)
    print(f"Sheet: {ROWS:,} rows, {len(data) / 1024 / 1024:.1f} MB .xlsx")

    reads = [timed(lambda: openpyxl_read(data)) for _ in range(3)]
    read_seconds, read_cpu = min(r[1] for r in reads), min(r[2] for r in reads)

    def preview():
        return run_import(data=data, file_name="bench.xlsx", user=None, dry_run=True)

    def confirm(stored):
        # As the admin does: the confirm reads the rows the preview kept in the database (JSON).
        sheet = sheet_from_json(json.loads(stored))
        return run_import(data=data, sheet=sheet, file_name="bench.xlsx", user=None, dry_run=False)

    dry, dry_seconds, dry_cpu, dry_queries = timed(preview)
    stored = json.dumps(sheet_to_json(dry.sheet))
    real, real_seconds, real_cpu, real_queries = timed(lambda: confirm(stored))
    again, again_seconds, again_cpu, again_queries = timed(preview)
    assert dry.counts["new"] == ROWS and real.saved and again.counts["unchanged"] == ROWS, (
        dry.summary_line(),
        real.summary_line(),
        again.summary_line(),
    )
    total, total_cpu = dry_seconds + real_seconds, dry_cpu + real_cpu

    print(
        f"Written: {Physician.objects.count():,} physicians, {Appointment.objects.count():,} appointments, "
        f"{Phone.objects.count():,} phone numbers"
    )
    # CPU seconds beside wall-clock seconds: on a shared machine the wall clock includes waiting for a core.
    print(f"{'step':<34}{'seconds':>9}{'cpu s':>8}{'× openpyxl':>12}{'queries':>9}")
    print(f"{'openpyxl alone reads the file':<34}{read_seconds:>9.2f}{read_cpu:>8.2f}{1:>12.1f}{'–':>9}")
    for label, seconds, cpu, queries in (
        ("dry run (preview)", dry_seconds, dry_cpu, dry_queries),
        ("import (confirm, preview's rows)", real_seconds, real_cpu, real_queries),
        ("dry run again (all unchanged)", again_seconds, again_cpu, again_queries),
    ):
        print(f"{label:<34}{seconds:>9.2f}{cpu:>8.2f}{seconds / read_seconds:>12.1f}{queries:>9}")
    verdict = "within" if total < TARGET_SECONDS else "OVER"
    print(
        f"dry run + import: {total:.2f} s ({total_cpu:.2f} s CPU), {total / read_seconds:.1f} × openpyxl alone "
        f"({verdict} the {TARGET_SECONDS:.0f} s target)"
    )


if __name__ == "__main__":
    main()
