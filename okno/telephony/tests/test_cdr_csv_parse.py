"""Reading Asterisk's Master.csv (PROTOCOLS.md 3a): every column count, quoting, dates, bad lines,
and the facts one CDR makes. No database: the import's own tests are in test_cdr_csv_import.py."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from okno.telephony.cdr_csv import (
    CdrError,
    CdrOptions,
    cdr_call_id,
    cdr_facts,
    cdr_options,
    cdr_rows,
    clid_number,
    extension_of,
    is_phone_number,
    parse_cdr_line,
    read_cdr_lines,
)
from okno.telephony.tests.cdr_lines import cdr_file, cdr_line

MOSCOW = ZoneInfo("Europe/Moscow")
OPTIONS = CdrOptions(zone=MOSCOW)

# The illustrative line of PROTOCOLS.md 3a, verbatim: the stock cdr.conf.sample's 18 columns.
PROTOCOL_LINE = ('"","100","200","from-internal","""Alice"" <100>","PJSIP/100-00000001","PJSIP/200-00000002",'
                 '"Dial","PJSIP/200,30","2024-01-15 10:30:00","2024-01-15 10:30:05","2024-01-15 10:31:05",65,60,'
                 '"ANSWERED","DOCUMENTATION","1705314600.1",""')


def test_the_stock_18_column_line():
    # when the documented line is read as GMT (the sample's usegmtime=yes)
    cdr = parse_cdr_line(PROTOCOL_LINE, UTC)
    # then every field lands where cdr_csv.c wrote it
    assert (cdr.src, cdr.dst, cdr.dcontext, cdr.clid) == ("100", "200", "from-internal", '"Alice" <100>')
    assert (cdr.channel, cdr.dstchannel, cdr.lastapp, cdr.lastdata) == ("PJSIP/100-00000001", "PJSIP/200-00000002",
                                                                        "Dial", "PJSIP/200,30")
    assert cdr.start == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert (cdr.answer, cdr.end) == (datetime(2024, 1, 15, 10, 30, 5, tzinfo=UTC),
                                     datetime(2024, 1, 15, 10, 31, 5, tzinfo=UTC))
    assert (cdr.duration, cdr.billsec, cdr.disposition, cdr.amaflags) == (65, 60, "ANSWERED", "DOCUMENTATION")
    assert (cdr.uniqueid, cdr.userfield, cdr.linkedid, cdr.sequence) == ("1705314600.1", "", "", 0)


@pytest.mark.parametrize(("columns", "uniqueid", "userfield", "linkedid", "sequence"), [
    (16, "", "", "", 0),
    (17, "1705314600.1", "", "", 0),
    (18, "1705314600.1", "note", "", 0),
    (19, "", "", "1705314599.9", 3),
    (20, "1705314600.1", "", "1705314599.9", 3),
    (21, "1705314600.1", "note", "1705314599.9", 3),
])
def test_every_column_count(columns, uniqueid, userfield, linkedid, sequence):
    # given a line as cdr.conf [csv] with these options writes it
    line = cdr_line(columns, userfield="note", linkedid="1705314599.9", peeraccount="peer")
    # when it is read
    cdr = parse_cdr_line(line, UTC)
    # then the optional columns are told apart by their count
    assert (cdr.uniqueid, cdr.userfield, cdr.linkedid, cdr.sequence) == (uniqueid, userfield, linkedid, sequence)
    assert (cdr.src, cdr.disposition, cdr.billsec) == ("79161234567", "ANSWERED", 60)


def test_17_columns_with_the_userfield_instead_of_the_uniqueid():
    # given loguniqueid=no and loguserfield=yes: the 17th column is the user field
    line = cdr_line(16) + ',"vip customer"'
    # then a value not shaped like an Asterisk uniqueid is the user field
    cdr = parse_cdr_line(line, UTC)
    assert (cdr.uniqueid, cdr.userfield) == ("", "vip customer")
    # and a uniqueid with the system name in front is still a uniqueid
    assert parse_cdr_line(cdr_line(16) + ',"pbx1-1705314600.17"', UTC).uniqueid == "pbx1-1705314600.17"


def test_quoting_doubled_quotes_commas_and_unset_dates():
    # given a caller id with quotes, an argument with commas and no answer time (an empty, unquoted field)
    line = cdr_line(18, clid='"O\'Brien, Bob" <+7 916 123-45-67>', lastdata="PJSIP/101&PJSIP/102,30,tT",
                    answer="", billsec=0, disposition="NO ANSWER")
    assert ',"""O\'Brien, Bob"" <+7 916 123-45-67>",' in line
    assert ',"2024-01-15 10:30:00",,"2024-01-15 10:31:05",' in line
    # when it is read
    cdr = parse_cdr_line(line, UTC)
    # then the quotes are undoubled, the commas kept and the answer time is unset
    assert cdr.clid == '"O\'Brien, Bob" <+7 916 123-45-67>'
    assert clid_number(cdr.clid) == "+7 916 123-45-67"
    assert cdr.lastdata == "PJSIP/101&PJSIP/102,30,tT"
    assert (cdr.answer, cdr.disposition) == (None, "NO ANSWER")


def test_clid_forms():
    assert clid_number('"Alice" <100>') == "100"
    assert clid_number("<79161234567>") == "79161234567"
    assert clid_number("79161234567") == "79161234567"
    assert clid_number('"" <>') == ""


def test_local_dates_are_read_in_the_pbx_zone_and_gmt_as_is():
    line = cdr_line(18)
    # Moscow is UTC+3: 10:30 there is 07:30 UTC
    assert parse_cdr_line(line, MOSCOW).start == datetime(2024, 1, 15, 7, 30, tzinfo=UTC)
    assert parse_cdr_line(line, UTC).start == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    # a zone with summer time: Berlin is UTC+2 in July and UTC+1 in January
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_cdr_line(cdr_line(18, start="2024-07-01 12:00:00"), berlin).start == datetime(
        2024, 7, 1, 10, tzinfo=UTC)
    assert parse_cdr_line(cdr_line(18, start="2024-01-01 12:00:00"), berlin).start == datetime(
        2024, 1, 1, 11, tzinfo=UTC)


def test_options_from_the_channel_and_the_caller():
    assert cdr_options({"timezone": "Asia/Yekaterinburg"}).zone == ZoneInfo("Asia/Yekaterinburg")
    assert cdr_options({"timezone": "Asia/Yekaterinburg"}, tz="Europe/Moscow").zone == MOSCOW
    assert cdr_options({"cdr_usegmtime": True, "timezone": "Europe/Moscow"}).zone is UTC
    assert cdr_options({"timezone": "Europe/Moscow"}, gmt=True).zone is UTC
    with pytest.raises(ValueError, match="Mars/Olympus"):
        cdr_options({}, tz="Mars/Olympus")
    with pytest.raises(ValueError, match="extension_pattern"):
        cdr_options({"extension_pattern": "(unclosed"})


@pytest.mark.parametrize(("line", "reason"), [
    (cdr_line(16)[: cdr_line(16).rindex(",")], "15 columns, expected 16 to 21"),
    (cdr_line(18) + ',"x","y","z","w"', "22 columns"),
    (cdr_line(18, start="15.01.2024 10:30"), "start: '15.01.2024 10:30' is not a date"),
    (cdr_line(18, end="2024-13-45 10:30:00"), "end: '2024-13-45 10:30:00' is not a date"),
    (cdr_line(18, start=""), "start: empty"),
    (cdr_line(18, duration="6x5"), "duration: '6x5' is not a whole number"),
    (cdr_line(18, billsec=-1), "billsec: '-1' is not a whole number"),
    (cdr_line(21, sequence="seven"), "sequence: 'seven' is not a whole number"),
    (cdr_line(18).replace('"from-trunk"', '"from-trunk"x'), "broken quoting"),
    (cdr_line(18).replace(',"ANSWERED"', ',"ANSWERED'), "broken quoting"),
])
def test_malformed_lines_say_why(line, reason):
    with pytest.raises(CdrError, match=re.escape(reason)):
        parse_cdr_line(line, UTC)


def test_a_broken_line_does_not_swallow_the_next_ones():
    # given an unclosed quote on line 2 and blank line 4
    lines = cdr_file(cdr_line(18, uniqueid="1.1"), '"","100","200,"oops', cdr_line(18, uniqueid="1.3"), "",
                     cdr_line(18, uniqueid="1.5"))
    # when the file is read
    out = list(read_cdr_lines(lines, UTC))
    # then line 2 is an error and lines 3 and 5 are still read, each with its own number
    assert [(n, type(x).__name__) for n, x in out] == [(1, "Cdr"), (2, "CdrError"), (3, "Cdr"), (5, "Cdr")]
    assert [x.uniqueid for _, x in out if not isinstance(x, CdrError)] == ["1.1", "1.3", "1.5"]


def test_a_line_that_is_not_utf8_is_read_with_replacement_characters():
    raw = cdr_line(18, clid='"Иван" <100>').encode("cp1251") + b"\r\n"
    [(number, cdr)] = list(read_cdr_lines([raw], UTC))
    assert number == 1 and cdr.clid.endswith(" <100>") and "\ufffd" in cdr.clid


@pytest.mark.parametrize(("channel", "expected"), [
    ("PJSIP/101-0000002a", "101"),
    ("SIP/101-0000000a", "101"),
    ("IAX2/4001-00001234", "4001"),
    ("PJSIP/123456-00000001", "123456"),
    ("Local/101@from-queue-00000003;1", ""),  # dialplan plumbing, as for the AMI adapter
    ("PJSIP/trunk-beeline-00000001", ""),
    ("DAHDI/1-1", ""),  # an analogue line, not a phone
    ("PJSIP/1234567-00000001", ""),  # seven digits: a number, not an extension by default
    ("", ""),
])
def test_which_channels_are_employees(channel, expected):
    assert extension_of(channel, OPTIONS) == expected


def test_the_extension_pattern_is_the_ami_adapters_setting():
    # one Asterisk channel, one setting: the AMI adapter and the import read it alike
    from okno.telephony.adapters.asterisk import DEFAULT_EXTENSION_PATTERN

    assert cdr_options({}).extension_pattern.pattern == DEFAULT_EXTENSION_PATTERN
    options = cdr_options({"extension_pattern": r"^SIP/office-(\d{3})-"}, gmt=True)
    assert extension_of("SIP/office-101-0000000a", options) == "101"
    assert extension_of("SIP/101-0000000a", options) == ""
    with pytest.raises(ValueError, match="needs a group"):
        cdr_options({"extension_pattern": r"^PJSIP/\d+"})


def test_what_counts_as_a_phone_number_dialled():
    assert is_phone_number("89161234567") and is_phone_number("+74951234567")
    assert not is_phone_number("102") and not is_phone_number("*97") and not is_phone_number("")


def test_call_id_is_linkedid_else_uniqueid_else_a_stable_hash():
    assert cdr_call_id(parse_cdr_line(cdr_line(21, linkedid="1705314599.9"), UTC)) == "1705314599.9"
    assert cdr_call_id(parse_cdr_line(cdr_line(18, uniqueid="1705314600.1"), UTC)) == "1705314600.1"
    one, two = (parse_cdr_line(cdr_line(16, dstchannel=f"PJSIP/{x}-00000002"), UTC) for x in (101, 102))
    # a ring group's rows share party A's channel and start, so they are one call
    assert cdr_call_id(one) == cdr_call_id(two)
    assert cdr_call_id(one).startswith("cdr:") and len(cdr_call_id(one)) == 28
    other = parse_cdr_line(cdr_line(16, start="2024-01-15 11:00:00"), UTC)
    assert cdr_call_id(other) != cdr_call_id(one)


def test_rows_are_exactly_what_call_facts_make():
    # The import writes rows straight away; they must be the very rows CallFact.as_row gives.
    lines = [
        cdr_line(21), cdr_line(18, answer="", billsec=0, disposition="NO ANSWER"),
        cdr_line(18, disposition="BUSY", answer="", billsec=0), cdr_line(16, dstchannel="", lastapp="BackGround"),
        cdr_line(17, channel="PJSIP/101-00000005", dstchannel="PJSIP/trunk-00000006", src="101",
                 dst="89161234567"),
        cdr_line(18, channel="PJSIP/101-00000005", dstchannel="PJSIP/102-00000006", src="101", dst="102"),
        cdr_line(18, dstchannel="", lastapp="VoiceMail", disposition="ANSWERED"),
        cdr_line(18, disposition="CONGESTION", answer="", billsec=0),
    ]
    for line in lines:
        cdr = parse_cdr_line(line, MOSCOW)
        call_id, rows = cdr_rows(cdr, OPTIONS)
        fact_call_id, facts = cdr_facts(cdr, OPTIONS)
        assert fact_call_id == call_id and all(f.call_id == call_id for f in facts)
        assert [f.as_row() for f in facts] == rows


def _kinds(line: str, **kw) -> tuple[str, list[tuple]]:
    _, facts = cdr_facts(parse_cdr_line(line, UTC), OPTIONS)
    return facts[0].direction, [(f.kind, f.extension, f.outcome) for f in facts]


def test_facts_of_an_answered_inbound_call():
    direction, facts = _kinds(cdr_line(18))
    assert direction == "in"
    assert facts == [("start", "", ""), ("ring", "101", ""), ("answer", "101", ""), ("end", "101", "answered")]
    _, [start, *_] = cdr_facts(parse_cdr_line(cdr_line(18), UTC), OPTIONS)
    assert (start.customer, start.line, start.leg) == ("79161234567", "74951234567", "PJSIP/101-00000002")


@pytest.mark.parametrize(("values", "expected"), [
    ({"disposition": "NO ANSWER", "answer": "", "billsec": 0}, [("start", "", ""), ("ring", "101", ""),
                                                                ("end", "101", "")]),
    ({"disposition": "BUSY", "answer": "", "billsec": 0}, [("start", "", ""), ("ring", "101", ""),
                                                           ("end", "101", "busy")]),
    ({"disposition": "FAILED", "answer": "", "billsec": 0}, [("start", "", ""), ("ring", "101", ""),
                                                             ("end", "101", "failed")]),
    # the PBX answered (a greeting, an IVR) and nobody else: not a person's answer
    ({"dstchannel": "", "lastapp": "BackGround"}, [("start", "", ""), ("ivr", "", ""), ("end", "", "")]),
    ({"dstchannel": "", "lastapp": "VoiceMail"}, [("start", "", ""), ("ivr", "", ""), ("end", "", "voicemail")]),
])
def test_facts_of_inbound_calls_nobody_answered(values, expected):
    assert _kinds(cdr_line(18, **values))[1] == expected


def test_outbound_and_internal_calls():
    # an employee's phone as party A dialling a number through the trunk: outbound
    out = cdr_line(18, channel="PJSIP/101-00000005", dstchannel="PJSIP/trunk-00000006", src="101",
                   dst="89161234567", clid='"Manager" <101>')
    direction, facts = _kinds(out)
    assert direction == "out"
    assert facts == [("start", "101", ""), ("answer", "101", ""), ("end", "101", "answered")]
    _, [start, *_] = cdr_facts(parse_cdr_line(out, UTC), OPTIONS)
    assert (start.customer, start.line, start.leg) == ("89161234567", "", "1705314600.1")
    # and dialling a colleague: internal
    internal = cdr_line(18, channel="PJSIP/101-00000005", dstchannel="PJSIP/102-00000006", src="101", dst="102")
    assert _kinds(internal) == ("internal", [("start", "101", ""), ("ring", "102", ""), ("answer", "102", ""),
                                             ("end", "102", "answered")])
