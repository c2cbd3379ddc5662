"""Hostile import files: zip bombs, huge shared strings, a declared dimension, long cells and rows.

The files are built here, byte by byte, the way an attacker would. Memory and time are
measured on the worker's inspection (`import_files.inspect_file`, what `import_job_inspect`
runs) in a fresh Python process, so that the test's own memory does not count: the bound
stated in docs/import-export.md is "the worker's peak RSS grows by less than 100 MB,
whatever the file". Time bounds are generous guards (the issue saw 141 s), not speed tests.
"""

import csv
import io
import json
import os
import random
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from okno.contacts import import_files, imports
from okno.contacts.models import Contact, ImportJob
from okno.core.errors import FieldError

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>')
ROOT_RELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
             f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
                 f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                 f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                 '</Relationships>')
# Row 1: the header "ФИО" | "Телефон" from shared strings 0 and 1.
HEADER_ROW = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
HEADER_STRINGS = "<si><t>ФИО</t></si><si><t>Телефон</t></si>".encode()


def sheet(rows: str, dimension: str = "A1:B2") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><dimension ref="{dimension}"/>'
            f'<sheetData>{rows}</sheetData></worksheet>').encode()


def xlsx(sheet_xml: bytes, strings=(HEADER_STRINGS,), *, level: int = 6, prologue: bytes = b"") -> bytes:
    """A minimal workbook; sharedStrings.xml is streamed into the zip from the `strings` pieces."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8"?>' + prologue + f'<sst xmlns="{NS}">'.encode())
            for piece in strings:
                f.write(piece)
            f.write(b"</sst>")
    return out.getvalue()


def one_huge_string(mb: int) -> bytes:
    """The issue's file: one string of `mb` megabytes, compressed about 1,000 times."""
    block = b"a" * (1024 * 1024)
    return xlsx(sheet(HEADER_ROW), [HEADER_STRINGS, b"<si><t>", *(block for _ in range(mb)), b"</t></si>"], level=9)


def many_strings(total_bytes: int) -> bytes:
    """Distinct short strings (a counter) up to `total_bytes`: compressed ~9 times, so no ratio refuses it."""
    def pieces():
        yield HEADER_STRINGS
        written, n = 0, 0
        while written < total_bytes:
            piece = "".join(f"<si><t>{i}</t></si>" for i in range(n, n + 10_000)).encode()
            if written + len(piece) > total_bytes:
                piece = piece[:piece.rfind(b"<si>", 0, total_bytes - written)]
                if not piece:
                    return
            n += 10_000
            written += len(piece)
            yield piece
    return xlsx(sheet(HEADER_ROW), pieces())


def uploaded(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.fixture(autouse=True)
def _english(settings):
    """The reasons are read in English here (pages and the worker fall back to LANGUAGE_CODE)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def inspect_in_a_fresh_process(path: Path) -> dict:
    """The worker's inspection of `path` in a new interpreter: its result, seconds and peak RSS growth (MB)."""
    script = textwrap.dedent("""
        import json, sys, time
        import django
        django.setup()
        import openpyxl  # noqa: F401 - loaded before the baseline, as in a worker that has imported before
        from okno.contacts import import_files

        def kb(key):
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith(key))

        base, started = kb("VmRSS:"), time.monotonic()
        try:
            with open(sys.argv[1], "rb") as fh:
                found = import_files.inspect_file(fh, name=sys.argv[1], sample_rows=20)
            result = {"header": found.info.header, "rows": found.total, "stopped_after": found.info.stopped_after}
        except import_files.ImportFileError as exc:
            result = {"refused": str(exc)}
        result.update(seconds=time.monotonic() - started, growth_mb=(kb("VmHWM:") - base) / 1024)
        print(json.dumps(result))
    """)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "okno.settings", "LANGUAGE_CODE": "en"}
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[3], timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- refused at upload: the zip's directory gives them away, nothing is decompressed or stored

def test_the_issues_308_kb_file_with_one_300_mb_string_is_refused_at_upload(api):
    # given the issue's file: 308 KB holding one 300 MB string
    data = one_huge_string(300)
    assert len(data) < 400_000
    # when uploaded
    started = time.monotonic()
    r = api.client.post("/api/v1/contacts/imports", data={"file": uploaded("bomb.xlsx", data)}, headers=api.headers)
    # then it is a 400 naming the file, the part and the reason, answered at once, and nothing is stored
    assert r.status_code == 400, r.content
    error = r.json()["errors"][0]
    assert error["field"] == "file"
    assert error["reason"].startswith("bomb.xlsx: ") and "xl/sharedStrings.xml" in error["reason"]
    assert "300.0 MB" in error["reason"] and "48.0 MB" in error["reason"]
    assert time.monotonic() - started < 5
    assert not ImportJob.objects.exists()


def test_a_highly_compressed_part_is_refused_as_a_zip_bomb(admin_user):
    # given 40 MB of one letter (under the size limit) compressed 1,000 times
    with pytest.raises(FieldError) as err:
        imports.import_job_create(actor=admin_user, upload=uploaded("ratio.xlsx", one_huge_string(40)))
    assert "compressed" in err.value.errors[0]["reason"] and "zip bomb" in err.value.errors[0]["reason"]


def test_a_zip_of_too_many_parts_is_refused_before_its_directory_is_read(admin_user):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(import_files.XLSX_MAX_MEMBERS + 1):
            z.writestr(f"x/{i}.xml", "")
    with pytest.raises(FieldError) as err:
        imports.import_job_create(actor=admin_user, upload=uploaded("parts.xlsx", out.getvalue()))
    assert "1001 parts" in err.value.errors[0]["reason"] and not ImportJob.objects.exists()


def test_a_job_not_read_yet_is_not_run(admin_user):
    job = imports.import_job_create(actor=admin_user, upload=uploaded("a.csv", "Имя;Телефон\r\nИван;1\r\n".encode()))
    assert imports.import_job_run(job_id=job.pk).status == "uploaded"
    assert imports.import_job_inspecting(ImportJob.objects.get()) and not Contact.objects.exists()


def test_the_upload_page_names_the_file_and_the_reason(admin_user):
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    r = client.post("/contacts/import/", {"file": uploaded("bomb.xlsx", one_huge_string(100))})
    assert r.status_code == 400
    assert "bomb.xlsx" in r.content.decode() and "xl/sharedStrings.xml" in r.content.decode()
    assert not ImportJob.objects.exists()


# -- read by the worker: what passes the directory check is read with bounded memory

def test_shared_strings_at_the_size_limit_are_read_with_bounded_memory(tmp_path):
    # given the most shared strings a file may hold: ~2 million distinct short ones (the
    # costliest shape for time), compressed ~9 times so that no ratio refuses them
    path = tmp_path / "many.xlsx"
    path.write_bytes(many_strings(import_files.XLSX_MAX_SHARED_STRINGS_BYTES - 1024))
    # when the worker inspects it
    result = inspect_in_a_fresh_process(path)
    # then it reads the file, and its memory grows by under 100 MB (openpyxl alone, at 60 MB:
    # 428 MB, 65 s before the first row) in a time that is no hang
    assert result.get("header") == ["ФИО", "Телефон"], result
    assert result["growth_mb"] < 100, result
    assert result["seconds"] < 120, result


def long_strings(total_bytes: int):
    """Shared strings of 9,990 hex digits each (compressed ~2 times) up to `total_bytes`."""
    rng = random.Random(13)
    yield HEADER_STRINGS
    written = len(HEADER_STRINGS)
    while written < total_bytes - 20_000:
        piece = f"<si><t>{rng.getrandbits(4 * 9990):x}</t></si>".encode()
        written += len(piece)
        yield piece


def styles_part(total_bytes: int) -> bytes:
    """A styles.xml of distinct cell formats (openpyxl builds an object for each) up to `total_bytes`."""
    rng = random.Random(7)
    xfs = []
    size = 0
    while size < total_bytes - 1000:
        xf = (f'<xf numFmtId="{rng.randint(0, 49)}" fontId="0" fillId="0" borderId="0" xfId="{rng.randint(0, 99999)}" '
              f'applyNumberFormat="{rng.randint(0, 1)}"/>')
        xfs.append(xf)
        size += len(xf)
    return (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}"><fonts count="1"><font><sz val="11"/>'
            '</font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            f'borderId="0"/></cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs></styleSheet>'
            ).encode()


def with_styles(data: bytes, styles: bytes) -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for member in src.infolist():
            part = src.read(member)
            if member.filename == "[Content_Types].xml":
                part = part.replace(b"</Types>", b'<Override PartName="/xl/styles.xml" ContentType="application/'
                                                 b'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
            elif member.filename == "xl/_rels/workbook.xml.rels":
                part = part.replace(b"</Relationships>", f'<Relationship Id="rId3" Type="{REL}/styles" '
                                                         'Target="styles.xml"/></Relationships>'.encode())
            z.writestr(member, part)
        z.writestr("xl/styles.xml", styles)
    return out.getvalue()


def test_every_part_at_its_limit_at_once_stays_under_the_memory_bound(tmp_path):
    # given a file with each part openpyxl holds at its limit: 48 MB of long shared strings,
    # a 1 MB styles.xml of distinct formats, and a 512 KB row of tiny cells (refused for its
    # width, but only once parsed: its memory is spent)
    cells, size, i = [], 0, 0
    while size < import_files.XLSX_MAX_ELEMENT_BYTES - 1000:
        cell = f"<c><v>{i}</v></c>"
        cells.append(cell)
        size, i = size + len(cell), i + 1
    rows = HEADER_ROW + '<row r="2">' + "".join(cells) + "</row>"
    data = xlsx(sheet(rows), long_strings(import_files.XLSX_MAX_SHARED_STRINGS_BYTES))
    path = tmp_path / "all.xlsx"
    path.write_bytes(with_styles(data, styles_part(import_files.XLSX_MAX_PART_BYTES)))
    # when the worker inspects it
    result = inspect_in_a_fresh_process(path)
    # then it got as far as the wide row, and grew by under 100 MB
    assert "Row 2 has a value in column" in result.get("refused", ""), result
    assert result["growth_mb"] < 100, result


def test_many_rows_do_not_accumulate(tmp_path):
    # given 300,000 short rows (openpyxl keeps ~90 bytes of each parsed row: 26 MB here, and
    # 1.8 GB for the 20 million rows a 512 MB sheet can hold)
    rows = HEADER_ROW + "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(2, 300_002))
    path = tmp_path / "rows.xlsx"
    path.write_bytes(xlsx(sheet(rows)))
    # when inspected: every row is counted and memory stays flat
    result = inspect_in_a_fresh_process(path)
    assert result.get("rows") == 300_000, result
    assert result["growth_mb"] < 12, result


def test_a_file_over_the_shared_strings_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "more.xlsx"
    path.write_bytes(many_strings(import_files.XLSX_MAX_SHARED_STRINGS_BYTES + 1024 * 1024))
    result = inspect_in_a_fresh_process(path)
    assert "xl/sharedStrings.xml" in result["refused"] and "48.0 MB" in result["refused"]
    assert result["growth_mb"] < 20 and result["seconds"] < 10, result


def test_a_long_text_under_the_ratio_is_refused_before_parsing(tmp_path):
    # given one inline string of 2 MB of varied text (compressed ~2 times: no ratio refuses it)
    text = "".join(f"{i:x}" for i in range(400_000))[:2_000_000]
    rows = HEADER_ROW + f'<row r="2"><c r="A2" t="inlineStr"><is><t>{text}</t></is></c></row>'
    path = tmp_path / "long.xlsx"
    path.write_bytes(xlsx(sheet(rows)))
    # then the scan refuses it, naming the part and the limit
    result = inspect_in_a_fresh_process(path)
    assert "xl/worksheets/sheet1.xml" in result["refused"] and "10,000 characters" in result["refused"]
    assert result["growth_mb"] < 30, result


def test_a_row_of_a_million_cells_is_refused(tmp_path):
    cells = "".join(f'<c r="A2"><v>{i}</v></c>' for i in range(300_000))  # 7 MB, compressed ~10 times
    path = tmp_path / "wide.xlsx"
    path.write_bytes(xlsx(sheet(HEADER_ROW + f'<row r="2">{cells}</row>')))
    with open(path, "rb") as fh, pytest.raises(import_files.ImportFileError, match="A row of the part"):
        import_files.inspect_file(fh, name="wide.xlsx")


def test_an_entity_bomb_is_refused(tmp_path):
    # given the "billion laughs": entities expanding to gigabytes, declared in a DTD
    dtd = (b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
           b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(xlsx(sheet(HEADER_ROW), [HEADER_STRINGS, b"<si><t>&d;&d;&d;</t></si>"], prologue=dtd))
    with open(path, "rb") as fh, pytest.raises(import_files.ImportFileError, match="DTD"):
        import_files.inspect_file(fh, name="laughs.xlsx")


# -- the declared dimension and empty rows

def test_a_declared_dimension_of_16384_columns_and_20000_rows_is_not_walked(tmp_path):
    # given the issue's 2 KB file: `A1:XFD20000` declared, two rows written (1 and 20,000)
    rows = HEADER_ROW + '<row r="20000"><c r="A20000" t="s"><v>0</v></c></row>'
    path = tmp_path / "dimension.xlsx"
    path.write_bytes(xlsx(sheet(rows, "A1:XFD20000")))
    assert path.stat().st_size < 3000
    # when inspected
    result = inspect_in_a_fresh_process(path)
    # then the header has its two columns (not 16,384), reading stopped 1,000 empty rows after
    # row 1 without walking to row 20,000, at once (the issue: 26 s of CPU)
    assert result["header"] == ["ФИО", "Телефон"]
    assert (result["rows"], result["stopped_after"]) == (0, 1)
    assert result["seconds"] < 5 and result["growth_mb"] < 20, result


def test_rows_are_numbered_as_the_sheet_numbers_them_and_short_gaps_are_read(tmp_path):
    rows = (HEADER_ROW + '<row r="3"><c r="A3" t="inlineStr"><is><t>Иванов Иван</t></is></c></row>'
            '<row r="900"><c r="B900" t="n"><v>79161234567</v></c></row>')
    path = tmp_path / "gaps.xlsx"
    path.write_bytes(xlsx(sheet(rows, "A1:XFD1048576")))
    with open(path, "rb") as fh:
        found = import_files.inspect_file(fh, name="gaps.xlsx", sample_rows=5)
    assert found.sample == [[3, ["Иванов Иван"]], [900, ["", "79161234567"]]]
    assert (found.total, found.info.stopped_after) == (2, None)


def test_a_value_beyond_the_column_limit_names_row_and_column(tmp_path):
    rows = HEADER_ROW + '<row r="2"><c r="XFD2" t="n"><v>1</v></c></row>'
    path = tmp_path / "far.xlsx"
    path.write_bytes(xlsx(sheet(rows, "A1:XFD2")))
    with open(path, "rb") as fh, pytest.raises(import_files.ImportFileError, match="Row 2 .* column XFD"):
        import_files.inspect_file(fh, name="far.xlsx")


def test_the_mapping_page_says_where_reading_stopped(admin_user):
    from django.test import Client

    rows = HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>Петров Пётр</t></is></c></row>'
    rows += '<row r="5000"><c r="A5000" t="inlineStr"><is><t>Забытый</t></is></c></row>'
    job = imports.import_job_create(actor=admin_user, upload=uploaded("stops.xlsx", xlsx(sheet(rows))))
    job = imports.import_job_inspect(job_id=job.pk)
    assert (job.total_rows, job.mapping["file"]["stopped_after"]) == (1, 2)
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/contacts/import/{job.pk}/", headers={"Accept-Language": "en"}).content.decode()
    assert "Reading stopped after row 2" in page


# -- long cells: the row is reported, the others imported

def test_a_cell_over_the_limit_is_a_row_error_naming_the_column_and_the_rest_is_imported(admin_user):
    # given a CSV whose second row has a 12,000-character name
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerows([["Фамилия", "Телефон"], ["Петров", "+7 916 000-00-01"], ["Я" * 12_000, "+7 916 000-00-02"],
                      ["Сидоров", "+7 916 000-00-03"]])
    job = imports.import_job_create(actor=admin_user, upload=uploaded("long.csv", out.getvalue().encode()))
    job = imports.import_job_run(job_id=imports.import_job_inspect(job_id=job.pk).pk)
    # then row 3 is reported (column A, the limit), rows 2 and 4 are cards
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 1)
    error = job.errors[0]
    assert (error["row"], error["field"]) == (3, "last_name")
    assert "column A" in error["reason"] and "10,000" in error["reason"]
    assert sorted(Contact.objects.values_list("last_name", flat=True)) == ["Петров", "Сидоров"]


def test_a_long_shared_string_is_cut_while_it_is_read(tmp_path):
    path = tmp_path / "cut.xlsx"
    body = "<si><t>" + "б" * 50_000 + "</t></si>"
    path.write_bytes(xlsx(sheet(HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>2</v></c></row>'),
                          [HEADER_STRINGS, body.encode()]))
    with open(path, "rb") as fh:
        found = import_files.inspect_file(fh, name="cut.xlsx", sample_rows=1)
    assert len(found.sample[0][1][0]) == import_files.MAX_CELL_CHARS + 1


# -- CSV: the same limits

def test_a_csv_record_over_the_limit_fails_the_inspection_with_the_reason(admin_user):
    data = "Имя;Телефон\r\n".encode() + b'"' + b"x\n" * 600_000 + b'";1\r\n'
    job = imports.import_job_create(actor=admin_user, upload=uploaded("huge.csv", data))
    job = imports.import_job_inspect(job_id=job.pk)
    assert job.status == "failed"
    assert job.errors[0]["reason"].startswith("huge.csv: Row 2 of the CSV file is longer than 1,000,000")


def test_a_csv_row_with_more_columns_than_the_limit_is_refused(admin_user):
    data = "Имя;Телефон\r\n".encode() + b";" * 5000 + b"x\r\n"
    job = imports.import_job_create(actor=admin_user, upload=uploaded("wide.csv", data))
    job = imports.import_job_inspect(job_id=job.pk)
    assert job.status == "failed" and "Row 2 has a value in column GJI" in job.errors[0]["reason"]


def test_csv_stops_after_the_empty_rows_limit(admin_user):
    data = "Имя;Телефон\r\nИван;+7 916 000-00-01\r\n".encode() + b";;\r\n" * 1500 + "Пётр;1\r\n".encode()
    job = imports.import_job_create(actor=admin_user, upload=uploaded("gap.csv", data))
    job = imports.import_job_inspect(job_id=job.pk)
    assert (job.total_rows, job.mapping["file"]["stopped_after"]) == (1, 2)


# -- the inspection's progress

def test_the_inspection_reports_its_progress_and_the_page_shows_it(admin_user):
    from django.test import Client

    # given a 12,000-row CSV just uploaded (the worker has not read it)
    data = "Имя;Телефон\r\n".encode() + "".join(f"Клиент{i};+7 916 {i:07d}\r\n" for i in range(12_000)).encode()
    job = imports.import_job_create(actor=admin_user, upload=uploaded("big.csv", data))
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/contacts/import/{job.pk}/", headers={"Accept-Language": "en"}).content.decode()
    assert "Reading the file: 0 rows read so far" in page and 'hx-trigger="every 2s"' in page
    # when the worker reads it, the count is saved as it goes
    seen = []
    with open(job.file.path, "rb") as fh:
        import_files.inspect_file(fh, name="big.csv", progress=seen.append)
    assert seen == [5_000, 10_000]
    job = imports.import_job_inspect(job_id=job.pk)
    # then the job holds the total, and a second delivery of the task changes nothing
    assert (job.total_rows, imports.import_job_editable(job)) == (12_000, True)
    assert imports.import_job_inspect(job_id=job.pk).mapping == job.mapping
