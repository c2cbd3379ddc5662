"""`manage.py import_cdr <path> --channel <id or name> [--gmt] [--tz ZONE]`: the report, and clear errors."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from okno.inbox.tests.factories import make_channel
from okno.telephony.models import Call
from okno.telephony.tests.cdr_lines import cdr_line


@pytest.fixture
def asterisk(db):
    return make_channel(kind="asterisk", name="Asterisk HQ", settings={"timezone": "Europe/Moscow"})


@pytest.fixture
def master_csv(tmp_path):
    path = tmp_path / "Master.csv"
    lines = [cdr_line(18, uniqueid="1.1"), cdr_line(18, uniqueid="1.2", duration="x"), cdr_line(18, uniqueid="1.3")]
    path.write_bytes(("\n".join(lines) + "\n").encode())
    return path


def import_cdr(*args: str) -> str:
    out = StringIO()
    call_command("import_cdr", *args, stdout=out)
    return out.getvalue()


def test_import_by_channel_id_prints_the_report(asterisk, master_csv):
    # when the file is imported into the channel given by its id
    out = import_cdr(str(master_csv), "--channel", str(asterisk.pk))
    # then the report counts everything and names the bad line
    assert "3 lines read" in out
    assert "calls: 2 created, 0 updated, 0 unchanged; 1 contacts created; 1 bad lines" in out
    assert "  line 2: duration: 'x' is not a whole number" in out
    assert Call.objects.count() == 2
    # and a second run reports the calls unchanged
    assert "calls: 0 created, 0 updated, 2 unchanged; 0 contacts created" in import_cdr(
        str(master_csv), "--channel", str(asterisk.pk))


def test_channel_by_name_and_the_time_options(asterisk, master_csv):
    import_cdr(str(master_csv), "--channel", "Asterisk HQ", "--gmt")
    assert Call.objects.get(pbx_call_id="1.1").started_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    Call.objects.all().delete()
    import_cdr(str(master_csv), "--channel", "Asterisk HQ", "--tz", "Asia/Yekaterinburg")
    assert Call.objects.get(pbx_call_id="1.1").started_at == datetime(2024, 1, 15, 5, 30, tzinfo=UTC)


def test_only_the_first_errors_are_listed(asterisk, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"nonsense\n" * 5)
    out = import_cdr(str(path), "--channel", str(asterisk.pk), "--show-errors", "2")
    assert "5 bad lines" in out and "  line 2: 1 columns" in out and "line 3" not in out
    assert "and 3 more bad lines" in out


@pytest.mark.parametrize(("args", "message"), [
    (["/no/such/Master.csv", "--channel", "Asterisk HQ"], "No such file: /no/such/Master.csv"),
    (["{file}", "--channel", "999999"], "No channel with id or name '999999'"),
    (["{file}", "--channel", "Nope"], "No channel with id or name 'Nope'"),
    (["{file}", "--channel", "Mango"], "is a 'mango' channel, not an Asterisk one"),
    (["{file}", "--channel", "Asterisk HQ", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
])
def test_clear_errors(asterisk, master_csv, args, message):
    make_channel(kind="mango", name="Mango")
    with pytest.raises(CommandError, match=message):
        import_cdr(*[a.replace("{file}", str(master_csv)) for a in args])
    assert not Call.objects.exists()


def test_two_channels_with_one_name_need_the_id(asterisk, master_csv):
    make_channel(kind="asterisk", name="Asterisk HQ")
    with pytest.raises(CommandError, match="give the id"):
        import_cdr(str(master_csv), "--channel", "Asterisk HQ")
