"""Benchmark: hostile spreadsheets through the real upload path. Target: under 200 MB and 5 s each.

Four files, each small to upload and big to unpack, as an attacker (or a very unlucky office) would
send them:

- a ~100 KB .ods whose content.xml unpacks to 10 MB, and a ~100 KB .xlsx whose sharedStrings.xml
  does: just under the compression-ratio limit, so they are parsed (streamed);
- a ~250 KB .ods and .xlsx whose part unpacks to 25 MB, over the per-part limit
  (REGISTRY_IMPORT_MAX_XML_PART_MB, 20 by default): refused when uploaded, before any parsing.

Each goes through the admin as an editor would send it — the upload form, storing the upload, the
preview (which reads the file), and the preview loaded again (which must not read it again) — in a
fresh process of its own, which reports its resident memory before the upload and its peak during
it (Linux's VmHWM, reset after start-up), and the seconds of each step. Prints the message the user
gets.

    make bench-upload                              # SQLite (a throwaway file)
    DATABASE_URL=postgres://… make bench-upload    # PostgreSQL (a throwaway test_… database)
"""

import html
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 200
TARGET_SECONDS = 5.0
USERNAME = "bench-uploader"
MB = 1024 * 1024

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


# The hostile files. Their XML varies just enough to compress about 90 times, under the ratio limit of 100.

ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)


def hostile_ods(xml_bytes):
    """Return (an .ods whose content.xml is `xml_bytes` long: one sheet of formatted blank rows, its part size)."""
    rnd = random.Random(14)
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NAMESPACES} office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Ark1">'
    ]
    size = len(parts[0])
    while size < xml_bytes:
        row = (
            f'<table:table-row table:style-name="ro{rnd.randrange(6)}">'
            f'<table:table-cell table:style-name="ce{rnd.randrange(2)}"/></table:table-row>'
        )
        parts.append(row)
        size += len(row)
    parts.append("</table:table></office:spreadsheet></office:body></office:document-content>")
    content = "".join(parts).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue(), len(content)


SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def hostile_xlsx(xml_bytes):
    """Return (an .xlsx with a sheet of one cell and a sharedStrings.xml `xml_bytes` long, its part size)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["?"])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    rnd = random.Random(14)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    ]
    size, current = len(parts[0]), 0
    while size < xml_bytes:
        if rnd.random() < 0.2:
            current = rnd.randrange(3)
        item = f"<si><t>{current}</t></si>"
        parts.append(item)
        size += len(item)
    parts.append("</sst>")
    strings = "".join(parts).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "[Content_Types].xml":
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/>'
                content = content.replace(b"</Types>", override.encode() + b"</Types>")
            archive.writestr(entry.filename, content)
        archive.writestr("xl/sharedStrings.xml", strings, compresslevel=9)
    return out.getvalue(), len(strings)


CASES = [
    ("ods, content.xml of 10 MB", "hostile.ods", lambda: hostile_ods(10 * MB)),
    ("xlsx, sharedStrings.xml of 10 MB", "hostile.xlsx", lambda: hostile_xlsx(10 * MB)),
    ("ods, content.xml of 25 MB", "over-limit.ods", lambda: hostile_ods(25 * MB)),
    ("xlsx, sharedStrings.xml of 25 MB", "over-limit.xlsx", lambda: hostile_xlsx(25 * MB)),
]


# One case, in a process of its own (--case FILE): its peak memory is its own.


def memory_mb(field):
    """Return VmRSS (resident now) or VmHWM (peak since the last reset_peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak():
    # Linux: "5" resets the peak resident size to the current one (proc(5), /proc/pid/clear_refs).
    Path("/proc/self/clear_refs").write_text("5")


def user_message(page):
    found = re.search(r'class="errornote">(.*?)</p>|class="errorlist[^"]*"[^>]*><li>(.*?)</li>', page, re.S)
    return html.unescape(" ".join((found.group(1) or found.group(2)).split())) if found else "(no error shown)"


def run_case(path):
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=USERNAME))
    upload_url = reverse("admin:imports_importlog_upload")
    client.get(upload_url)  # everything a request needs is loaded before the baseline
    data = Path(path).read_bytes()
    reset_peak()
    before = memory_mb("VmRSS")

    start = time.perf_counter()
    response = client.post(upload_url, {"file": SimpleUploadedFile(Path(path).name, data)})
    preview, again = None, None
    if response.status_code == 302:
        response = client.get(response["Location"])
        preview = time.perf_counter() - start
        start = time.perf_counter()
        reload = client.get(response.request["PATH_INFO"])
        again = time.perf_counter() - start
        assert reload.status_code == 200, reload.status_code
    first = time.perf_counter() - start if preview is None else preview
    print(
        json.dumps(
            {
                "status": response.status_code,
                "stored": preview is not None,
                "seconds": first,
                "again": again,
                "before_mb": before,
                "peak_mb": memory_mb("VmHWM"),
                "message": user_message(response.content.decode()),
            }
        )
    )


# The parent: a throwaway database, then one process per case.


def database_url(settings_dict, name):
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{name}"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    return f"postgres://{settings_dict['USER']}{password}@{host}:{settings_dict.get('PORT') or 5432}/{name}"


def main():
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from accounts.services import add_editor

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = os.path.join(tempfile.mkdtemp(), "bench.sqlite3")
    print(f"Database: {connection.vendor} (throwaway test database, migrated with the reference data)")
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        add_editor(username=USERNAME, office_code="trondelag")
        connection.close()
        limit = settings.IMPORT_MAX_XML_PART_BYTES / 1024 / 1024
        print(f"Per-part limit: {limit:g} MB. Targets: under {TARGET_MB} MB more memory and {TARGET_SECONDS:g} s each.")
        results = run_cases(database_url(settings.DATABASES["default"], name))
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
    report(results)


def run_cases(url):
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for label, file_name, build in CASES:
            data, part = build()
            path = Path(folder) / file_name
            path.write_bytes(data)
            child = subprocess.run(
                [sys.executable, __file__, "--case", str(path)],
                env={**os.environ, "DATABASE_URL": url},
                capture_output=True,
                text=True,
                timeout=600,
            )
            if child.returncode != 0:
                sys.exit(f"{label}: the upload process failed:\n{child.stderr}")
            results.append((label, len(data), part, json.loads(child.stdout.strip().splitlines()[-1])))
    return results


def report(results):
    print(f"{'file':<34}{'size':>8}{'unpacks':>9}  {'outcome':<22}{'seconds':>8}{'again':>7}{'peak MB':>9}{'+MB':>6}")
    verdicts = []
    for label, size, part, result in results:
        outcome = "preview with an error" if result["stored"] else "refused at upload"
        grown = result["peak_mb"] - result["before_mb"]
        again = f"{result['again']:.2f}" if result["again"] is not None else "–"
        print(
            f"{label:<34}{size / 1024:>6.0f}KB{part / 1024 / 1024:>7.1f}MB  {outcome:<22}{result['seconds']:>8.2f}"
            f"{again:>7}{result['peak_mb']:>9.0f}{grown:>6.0f}"
        )
        print(f"    the user reads: «{result['message']}»")
        verdicts.append(grown < TARGET_MB and result["seconds"] < TARGET_SECONDS and result["status"] == 200)
    print(
        "peak MB: the whole process (Django included); +MB: what the upload added to it. "
        f"{'All within' if all(verdicts) else 'NOT all within'} the targets."
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--case"]:
        run_case(sys.argv[2])
    else:
        main()
