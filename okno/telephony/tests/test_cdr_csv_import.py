"""Importing Master.csv into calls (okno.telephony.cdr_import): the same Call the live path would
make, cards found or made by number, bad lines reported and skipped, and a second run changing nothing."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from okno.contacts.models import Contact, ContactPhone
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Lead
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony import cdr_writer
from okno.telephony.calls import CallFact, _order, call_fact_record, callbacks_drain
from okno.telephony.cdr_bulk import keyed_lookup
from okno.telephony.cdr_import import CdrImportRefused, cdr_import, cdr_import_file
from okno.telephony.models import Call, CallLeg, PbxExtension
from okno.telephony.tests.cdr_lines import cdr_file, cdr_line
from okno.timeline.models import Activity
from okno.work.models import WorkItem

T0 = datetime(2024, 1, 15, 7, 30, tzinfo=UTC)  # 10:30 in Moscow, the lines' start


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def asterisk(sales):
    return make_channel(kind="asterisk", name="Asterisk", department=sales, settings={"timezone": "Europe/Moscow"})


def run(channel, *lines, **kw):
    return cdr_import(channel=channel, lines=cdr_file(*lines), **kw)


def snapshot() -> tuple:
    return (sorted(Call.objects.values_list("pbx_call_id", "outcome", "contact_id", "started_at", "ended_at")),
            CallLeg.objects.count(), Contact.objects.count(), Activity.objects.count())


def test_an_answered_inbound_call(asterisk, sales):
    # given extension 101 is a manager's
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=asterisk, code="101", user=manager)
    # when one answered inbound CDR is imported
    report = run(asterisk, cdr_line(18))
    # then one call with everything the live path would set
    assert (report.read, report.calls_created, report.contacts_created, report.errors) == (1, 1, 1, 0)
    call = Call.objects.get()
    assert (call.pbx_call_id, call.direction, call.customer_number, call.line) == (
        "1705314600.1", "in", "+79161234567", "74951234567")
    assert (call.employee, call.department, call.unmatched_extension) == (manager, sales, "")
    assert (call.started_at, call.answered_at, call.ended_at) == (T0, T0 + timedelta(seconds=5),
                                                                 T0 + timedelta(seconds=65))
    assert (call.wait_seconds, call.talk_seconds, call.outcome) == (5, 60, "answered")
    leg = call.legs.get()
    assert (leg.leg_id, leg.extension, leg.employee, leg.outcome) == ("PJSIP/101-00000002", "101", manager,
                                                                      "answered")
    # and the customer's new card, with the call in its timeline
    contact = call.contact
    assert list(contact.phones.values_list("e164", flat=True)) == ["+79161234567"]
    assert contact.department == sales and contact.source == "Asterisk"
    activity = Activity.objects.get(contact=contact)
    assert (activity.kind, activity.detail, activity.occurred_at) == ("call", call, T0)
    assert activity.summary.startswith("Asterisk: ")


@pytest.mark.parametrize(("values", "outcome", "talk"), [
    ({"disposition": "NO ANSWER", "answer": "", "billsec": 0}, "missed", 0),
    ({"disposition": "BUSY", "answer": "", "billsec": 0}, "busy", 0),
    ({"disposition": "CONGESTION", "answer": "", "billsec": 0}, "failed", 0),
    ({"dstchannel": "", "lastapp": "BackGround"}, "abandoned", 0),
    ({"dstchannel": "", "lastapp": "VoiceMail"}, "voicemail", 0),
])
def test_outcomes(asterisk, values, outcome, talk):
    run(asterisk, cdr_line(18, **values))
    call = Call.objects.get()
    assert (call.outcome, call.talk_seconds, call.answered_at) == (outcome, talk, None)


def test_back_fill_makes_no_lead_and_no_callback(asterisk):
    # given a missed inbound call from a new number, long ago
    run(asterisk, cdr_line(18, disposition="NO ANSWER", answer="", billsec=0))
    # when the worker's callbacks drain runs
    callbacks_drain()
    # then the history made a card and nothing for a manager to do
    call = Call.objects.get()
    assert call.outcome == "missed" and call.contact is not None and not call.callback_due
    assert not Lead.objects.exists() and not WorkItem.objects.exists()


def test_a_ring_group_is_one_call_answered_by_whoever_took_it(asterisk, sales):
    # given the stock 18 columns: three rows with party A's uniqueid, one per extension rung
    anna = UserFactory(department=sales)
    PbxExtension.objects.create(channel=asterisk, code="102", user=anna)
    lines = [cdr_line(18, dstchannel="PJSIP/101-00000002", disposition="NO ANSWER", answer="", billsec=0,
                      end="2024-01-15 10:30:12"),
             cdr_line(18, dstchannel="PJSIP/102-00000003", answer="2024-01-15 10:30:12"),
             cdr_line(18, dstchannel="PJSIP/103-00000004", disposition="NO ANSWER", answer="", billsec=0,
                      end="2024-01-15 10:30:12")]
    # when imported
    report = run(asterisk, *lines)
    # then one call, answered by 102 after 12 seconds, with three legs
    assert (report.calls_created, report.calls_updated) == (1, 0)
    call = Call.objects.get()
    assert (call.outcome, call.employee, call.wait_seconds, call.talk_seconds) == ("answered", anna, 12, 53)
    legs = {leg.extension: (leg.outcome, leg.employee) for leg in call.legs.all()}
    assert legs == {"101": ("missed", None), "102": ("answered", anna), "103": ("missed", None)}


def test_an_ivr_then_an_extension_that_did_not_answer_is_missed_not_abandoned(asterisk):
    lines = [cdr_line(21, dstchannel="", lastapp="BackGround", end="2024-01-15 10:30:20", sequence=1),
             cdr_line(21, start="2024-01-15 10:30:20", answer="", billsec=0, disposition="NO ANSWER",
                      end="2024-01-15 10:30:50", sequence=2)]
    run(asterisk, *lines)
    assert Call.objects.get().outcome == "missed"


def test_an_unknown_extension_is_kept_for_the_administrator(asterisk, sales):
    run(asterisk, cdr_line(18, dstchannel="PJSIP/777-00000002"))
    call = Call.objects.get()
    assert (call.employee, call.unmatched_extension, call.department) == (None, "777", sales)
    assert call.legs.get().extension == "777"


def test_an_outbound_call_is_the_employees(asterisk, sales):
    manager = UserFactory(department=DepartmentFactory(name="Опт"))
    PbxExtension.objects.create(channel=asterisk, code="101", user=manager)
    run(asterisk, cdr_line(18, channel="PJSIP/101-00000005", dstchannel="PJSIP/trunk-00000006", src="101",
                           dst="8 (916) 765-43-21", clid='"Manager" <101>'))
    call = Call.objects.get()
    assert (call.direction, call.customer_number, call.employee, call.outcome) == ("out", "+79167654321", manager,
                                                                                   "answered")
    # the department is the employee's, and so is the new card's
    assert call.department == manager.department and call.contact.department == manager.department


def test_a_known_number_in_another_format_finds_the_card(asterisk):
    # given a card with the number typed another way
    card = make_contact(phones=["+7 (916) 123-45-67"])
    # when calls from 89161234567 and 79161234567 are imported
    report = run(asterisk, cdr_line(18, src="89161234567", uniqueid="1.1", linkedid=""),
                 cdr_line(18, src="79161234567", uniqueid="1.2", linkedid=""))
    # then both land on that card and no card is made
    assert report.contacts_created == 0
    assert set(Call.objects.values_list("contact_id", flat=True)) == {card.pk}
    assert Activity.objects.filter(contact=card, kind="call").count() == 2
    assert ContactPhone.objects.filter(e164="+79161234567").count() == 1


def test_one_card_per_new_number_and_none_for_hidden_or_internal(asterisk):
    report = run(asterisk, cdr_line(18, uniqueid="1.1", src="79161112233"),
                 cdr_line(18, uniqueid="1.2", src="8 916 111-22-33"),
                 cdr_line(18, uniqueid="1.3", src="anonymous", clid='"" <anonymous>'),
                 cdr_line(18, uniqueid="1.4", channel="PJSIP/101-00000005", dstchannel="PJSIP/102-00000006",
                          src="101", dst="102"))
    assert (report.calls_created, report.contacts_created) == (4, 1)
    calls = {c.pbx_call_id: c for c in Call.objects.all()}
    assert calls["1.1"].contact == calls["1.2"].contact is not None
    assert (calls["1.3"].customer_number, calls["1.3"].contact) == ("anonymous", None)
    assert (calls["1.4"].direction, calls["1.4"].contact) == ("internal", None)
    assert Activity.objects.count() == 2


def test_malformed_lines_are_reported_by_number_and_the_rest_imported(asterisk):
    # given good lines around four bad ones
    lines = [cdr_line(18, uniqueid="1.1"), cdr_line(18, uniqueid="1.2", start="yesterday"),
             '"only","three","columns"', cdr_line(18, uniqueid="1.4"), cdr_line(18, uniqueid="1.5", billsec="sixty"),
             cdr_line(18, uniqueid="1.6").replace('"Dial"', '"Dial"x'), cdr_line(18, uniqueid="1.7")]
    # when imported
    report = run(asterisk, *lines)
    # then each bad line is named with its number and why, and the good ones are calls
    assert (report.read, report.errors, report.calls_created) == (7, 4, 3)
    assert [n for n, _ in report.first_errors] == [2, 3, 5, 6]
    assert "start: 'yesterday' is not a date" in report.first_errors[0][1]
    assert "columns, expected 16 to 21" in report.first_errors[1][1]
    assert "billsec: 'sixty' is not a whole number" in report.first_errors[2][1]
    assert "broken quoting" in report.first_errors[3][1]
    assert sorted(Call.objects.values_list("pbx_call_id", flat=True)) == ["1.1", "1.4", "1.7"]
    # and the report keeps only the first few, counting the rest
    report = run(asterisk, *lines, errors_kept=1)
    assert report.errors == 4 and report.first_errors == [(2, "start: 'yesterday' is not a date (YYYY-MM-DD "
                                                              "HH:MM:SS)")]


def test_re_import_changes_nothing(asterisk):
    # given a file imported once
    lines = [cdr_line(18, uniqueid=f"1.{i}", linkedid="", src=f"7916123450{i}") for i in range(5)]
    lines.append(cdr_line(18, uniqueid="1.0", linkedid="", dstchannel="PJSIP/102-00000009",
                          disposition="NO ANSWER", answer="", billsec=0, src="79161234500"))
    first = run(asterisk, *lines)
    before = snapshot()
    # when the same file is imported again, and a file with one line twice
    again = run(asterisk, *lines)
    twice = run(asterisk, lines[0], lines[0])
    # then nothing is added or counted as new
    assert (first.calls_created, first.contacts_created) == (5, 5)
    assert (again.calls_created, again.calls_updated, again.calls_unchanged, again.contacts_created) == (0, 0, 5, 0)
    assert (twice.calls_created, twice.calls_updated, twice.calls_unchanged) == (0, 0, 1)
    assert snapshot() == before


def test_an_overlapping_file_adds_only_what_is_new(asterisk):
    # given yesterday's file imported
    calls = [cdr_line(18, uniqueid=f"1.{i}", linkedid="") for i in range(4)]
    run(asterisk, *calls[:2])
    # when today's file repeats one call and brings another row of the second one and two new calls
    extra_leg = cdr_line(18, uniqueid="1.1", linkedid="", dstchannel="PJSIP/102-00000007",
                         disposition="NO ANSWER", answer="", billsec=0)
    report = run(asterisk, calls[0], extra_leg, calls[2], calls[3])
    # then the repeated call is unchanged, the second one recomputed with its new leg, two made
    assert (report.calls_created, report.calls_updated, report.calls_unchanged) == (2, 1, 1)
    second = Call.objects.get(pbx_call_id="1.1")
    assert second.legs.count() == 2 and second.outcome == "answered" and len(second.facts) == 7
    assert Activity.objects.filter(detail_id=second.pk).count() == 1


def test_a_call_straddling_two_chunks_is_one_call_and_not_counted_updated(asterisk):
    lines = [cdr_line(18, dstchannel="PJSIP/101-00000002", disposition="NO ANSWER", answer="", billsec=0),
             cdr_line(18, dstchannel="PJSIP/102-00000003")]
    report = run(asterisk, *lines, chunk_lines=1)
    assert (report.calls_created, report.calls_updated) == (1, 0)
    assert Call.objects.get().legs.count() == 2


def test_a_call_seen_live_through_ami_folds_with_its_cdr(asterisk, sales):
    # given the live adapter recorded the call's start and ring under its Linkedid (AMI's call id)
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=asterisk, code="101", user=manager)
    call_fact_record(channel=asterisk, fact=CallFact(call_id="1705314600.1", kind="start", at=T0, leg="1705314600.1",
                                                     direction="in", customer="+79161234567"))
    call_fact_record(channel=asterisk, fact=CallFact(call_id="1705314600.1", kind="ring", at=T0 + timedelta(seconds=1),
                                                     leg="1705314600.2", extension="101"))
    live = Call.objects.get()
    assert live.outcome == "ongoing"
    # when the night's Master.csv (newcdrcolumns: linkedid) is imported
    report = run(asterisk, cdr_line(21))
    # then it is the same call, now ended, answered by the manager, on the same card
    assert (report.calls_created, report.calls_updated, report.contacts_created) == (0, 1, 0)
    call = Call.objects.get()
    assert (call.pk, call.outcome, call.employee, call.contact) == (live.pk, "answered", manager, live.contact)
    assert (call.started_at, call.ended_at, call.talk_seconds) == (T0, T0 + timedelta(seconds=65), 60)
    assert Activity.objects.filter(detail_id=call.pk, kind="call").count() == 1
    # and importing it again changes nothing
    assert run(asterisk, cdr_line(21)).calls_unchanged == 1


def test_a_missed_live_call_that_the_cdr_shows_answered_owes_no_callback(asterisk):
    call_fact_record(channel=asterisk, fact=CallFact(call_id="1705314600.1", kind="start", at=T0,
                                                     direction="in", customer="+79161234567"))
    call_fact_record(channel=asterisk, fact=CallFact(call_id="1705314600.1", kind="end", at=T0 + timedelta(seconds=9)))
    assert Call.objects.get().callback_due
    run(asterisk, cdr_line(21))
    call = Call.objects.get()
    assert call.outcome == "answered" and not call.callback_due


def test_gmt_and_zone_options(asterisk):
    run(asterisk, cdr_line(18, uniqueid="1.1"), gmt=True)
    run(asterisk, cdr_line(18, uniqueid="1.2"), tz="Asia/Yekaterinburg")
    calls = dict(Call.objects.values_list("pbx_call_id", "started_at"))
    assert calls == {"1.1": T0 + timedelta(hours=3), "1.2": T0 - timedelta(hours=2)}


def test_only_an_asterisk_channel_takes_cdrs(db):
    mango = make_channel(kind="mango", name="Mango")
    with pytest.raises(CdrImportRefused, match="not an Asterisk one"):
        run(mango, cdr_line(18))
    bad_zone = make_channel(kind="asterisk", name="PBX", settings={"timezone": "Mars/Olympus"})
    with pytest.raises(CdrImportRefused, match="Mars/Olympus"):
        run(bad_zone, cdr_line(18))
    assert not Call.objects.exists()


def test_a_file_read_by_the_helper_process_imports_the_same(asterisk, tmp_path):
    # given a file of several chunks: calls, a ring group across a chunk boundary, bad lines
    lines = [cdr_line(18, uniqueid=f"2.{i}", linkedid="", src=f"7916765{i:04d}") for i in range(7)]
    lines[3:3] = [cdr_line(18, uniqueid="2.2", linkedid="", dstchannel="PJSIP/102-00000007",
                           disposition="NO ANSWER", answer="", billsec=0), "not a cdr"]
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(cdr_file(*lines)))
    # when it is imported through the forked reader, and in this process into another channel
    forked = cdr_import_file(channel=asterisk, path=path, chunk_lines=3, parallel=True)
    other = make_channel(kind="asterisk", name="Asterisk 2", settings={"timezone": "Europe/Moscow"})
    inline = cdr_import_file(channel=other, path=path, chunk_lines=3, parallel=False)
    # then both report and store the same (the second finds the first one's cards)
    assert (forked.contacts_created, inline.contacts_created) == (7, 0)
    assert replace(forked, contacts_created=0) == inline
    assert (forked.read, forked.errors, forked.calls_created, forked.calls_updated) == (9, 1, 7, 0)

    def calls(channel):
        return sorted((c.pbx_call_id, c.outcome, c.started_at, c.customer_number, c.facts, c.legs.count())
                      for c in Call.objects.filter(channel=channel))

    assert calls(asterisk) == calls(other)
    # and the facts are stored in the live path's canonical order
    assert all(c.facts == sorted(c.facts, key=_order) for c in Call.objects.all())


def test_a_call_made_live_between_look_up_and_write_is_merged_on_the_second_attempt(asterisk, monkeypatch):
    # given a call seen live, which the chunk's first look-up of stored calls misses (as when AMI
    # makes it a moment after the look-up)
    call_fact_record(channel=asterisk, fact=CallFact(call_id="1705314600.1", kind="start", at=T0,
                                                     direction="in", customer="+79161234567"))
    looked_up = []

    def late_lookup(table, column, keys, select, where="", join=""):
        looked_up.append(table)
        if table == Call._meta.db_table and looked_up.count(table) == 1:
            where = f"{where} AND 1 = 0" if where else "1 = 0"
        return keyed_lookup(table, column, keys, select, where, join)

    monkeypatch.setattr(cdr_writer, "keyed_lookup", late_lookup)
    # when the CDR is imported: the first write (COPY on PostgreSQL, INSERT on SQLite) breaks the
    # unique (channel, pbx_call_id) and the chunk is written again
    report = run(asterisk, cdr_line(21), cdr_line(21, uniqueid="1.9", linkedid="1.9", src="79160000009"))
    # then the live call got the file's facts, the new one was made once, and nothing is doubled
    assert (report.calls_created, report.calls_updated) == (1, 1)
    assert looked_up.count(Call._meta.db_table) == 2
    assert Call.objects.count() == 2 and Call.objects.get(pbx_call_id="1705314600.1").outcome == "answered"
    assert Activity.objects.filter(kind="call").count() == 2 and CallLeg.objects.count() == 2
