"""Answering machines and voicemail from Asterisk: AMD()'s AMDSTATUS (VarSet, a UserEvent, the CDR's
userfield) and VoiceMail()'s VMSTATUS / LastApplication make the Call's outcome `machine` or
`voicemail`, never `answered` (docs/analytics.md: neither is a conversation)."""

from datetime import UTC, datetime

from okno.inbox.models import InboundEvent
from okno.telephony.adapters.asterisk import ami_event_facts, ami_event_wanted
from okno.telephony.calls import call_summary
from okno.telephony.cdr_csv import cdr_options, cdr_rows, parse_cdr_line
from okno.telephony.models import Call
from okno.telephony.tests.ami_server import transcript, transcript_events
from okno.telephony.tests.test_asterisk import drain, employee, listen, pbx, sales, server  # noqa: F401 (fixtures)
from okno.telephony.tests.test_asterisk_events import chan, event, summary


def test_an_outbound_call_answered_by_a_machine_is_not_answered(pbx, sales, server):  # noqa: F811
    # given 101's outbound call whose far end AMD() found to be an answering machine
    manager = employee(pbx, "101", sales)
    server.packets = transcript("outbound_machine")
    listen(pbx, server)
    # then the listener kept the AMDSTATUS VarSet (not AMDCAUSE: it says nothing of its own)
    kept = [e.body for e in InboundEvent.objects.all()]
    assert sum(b'"VarSet"' in bytes(b) for b in kept) == 1
    drain()
    # and the call is the machine's: the line was open 60 s, yet nobody talked
    call = Call.objects.get()
    assert (call.direction, call.customer_number, call.employee, call.outcome) == (
        "out", "+79161234567", manager, "machine")
    assert call.answered_at == datetime.fromtimestamp(1705317609, tz=UTC)
    assert call.talk_seconds == 60
    assert {"kind": "machine", "outcome": "machine", "at": "2024-01-15T11:20:12.500100+00:00"} in call.facts


def test_amd_human_or_notsure_leaves_the_call_answered():
    # given the same call where AMD said HUMAN (or NOTSURE)
    for status in ("HUMAN", "NOTSURE", "HANGUP"):
        events = [p if p.get("Variable") != "AMDSTATUS" else {**p, "Value": status}
                  for p in transcript_events("outbound_machine")]
        # then the VarSet is read and says nothing: the call stays answered
        assert summary(events).outcome == "answered"


def test_only_the_machine_variables_and_user_events_are_kept():
    trunk = chan("Local/79161234567@dialer-00000001;2", "1.20", "1.19")
    assert ami_event_wanted(event("VarSet", 1, trunk, Variable="AMDSTATUS", Value="MACHINE"))
    assert ami_event_wanted(event("VarSet", 1, trunk, Variable="VMSTATUS", Value="SUCCESS"))
    assert not ami_event_wanted(event("VarSet", 1, trunk, Variable="BRIDGEPEER", Value="PJSIP/101"))
    assert ami_event_wanted(event("UserEvent", 1, trunk, UserEvent="OknoAMD", AMDSTATUS="MACHINE"))
    assert not ami_event_wanted(event("UserEvent", 1, trunk, UserEvent="Other", Foo="bar"))


def test_a_user_event_from_a_local_channel_names_the_call_by_its_linkedid():
    # given an auto-dialer's Originate through a Local channel, whose dialplan ran
    # UserEvent(OknoAMD,AMDSTATUS: ${AMDSTATUS}) (UNVERIFIED: a dialplan's own event)
    local = chan("Local/79161234567@dialer-00000001;2", "1.20", "1.19")
    facts = ami_event_facts(event("UserEvent", 5, local, UserEvent="OknoAMD", AMDSTATUS="MACHINE"), received_at=None)
    # then it is a machine fact of the call 1.19
    assert [(f.call_id, f.kind, f.outcome) for f in facts] == [("1.19", "machine", "machine")]


def test_an_inbound_call_that_reached_voicemail():
    # given an inbound call the IVR answered, that rang 101 unanswered and went to VoiceMail()
    trunk = chan("PJSIP/mts-00000040", "1.40", "1.40", exten="74951110000", cid="79161234567")
    trunk_up = chan("PJSIP/mts-00000040", "1.40", "1.40", exten="74951110000", cid="79161234567", state="6")
    phone = chan("PJSIP/101-00000041", "1.41", "1.40", prefix="Dest")
    events = [
        event("Newchannel", 0, trunk),
        event("Newstate", 1, trunk_up),
        event("DialBegin", 2, trunk_up, phone),
        event("DialEnd", 22, trunk_up, phone, DialStatus="NOANSWER"),
        event("VarSet", 60, trunk_up, Variable="VMSTATUS", Value="SUCCESS"),
        event("Hangup", 61, trunk_up, Cause="16"),
    ]
    # then it is a voicemail, not a plain missed call (and still unanswered)
    s = summary(events)
    assert (s.direction, s.outcome, s.answered_at) == ("in", "voicemail", None)
    # and before VoiceMail() said so it read as missed (a leg's end reads as the call's end)
    assert summary(events[:4]).outcome == "missed"


def test_a_voicemail_after_a_person_answered_leaves_the_call_answered():
    rows = [{"kind": "start", "at": "2024-01-15T10:00:00+00:00", "direction": "in"},
            {"kind": "answer", "at": "2024-01-15T10:00:05+00:00", "extension": "101"},
            {"kind": "machine", "at": "2024-01-15T10:01:00+00:00", "outcome": "voicemail"},
            {"kind": "end", "at": "2024-01-15T10:02:00+00:00"}]
    assert call_summary(rows).outcome == "answered"


def test_cdr_events_say_voicemail_and_machine():
    # given cdr_manager's records: an inbound call that ended in VoiceMail() with nobody dialled,
    # and 101's outbound call whose userfield the dialplan set to AMD's result
    common = {"Event": "Cdr", "Privilege": "cdr,all", "AccountCode": "", "DestinationContext": "from-internal",
              "StartTime": "2024-01-15 13:30:00", "EndTime": "2024-01-15 13:31:00"}
    inbound = {**common, "Source": "79161234567", "Destination": "74951110000", "Channel": "PJSIP/mts-00000050",
               "DestinationChannel": "", "LastApplication": "VoiceMail", "LastData": "100@default",
               "Disposition": "ANSWERED", "UniqueID": "1.50", "UserField": ""}
    outbound = {**common, "Source": "101", "Destination": "89161234567", "Channel": "PJSIP/101-00000051",
                "DestinationChannel": "PJSIP/mts-00000052", "LastApplication": "Dial", "Disposition": "ANSWERED",
                "UniqueID": "1.51", "UserField": "AMDSTATUS=MACHINE"}
    # then the first is a voicemail and the second a machine
    assert summary([inbound]).outcome == "voicemail"
    assert summary([outbound]).outcome == "machine"
    assert summary([{**outbound, "UserField": "AMDSTATUS=HUMAN"}]).outcome == "answered"


def test_cdr_csv_userfield_says_machine():
    line = ('"","101","89161234567","from-internal","""Alice"" <101>","PJSIP/101-00000001","PJSIP/mts-00000002",'
            '"Dial","PJSIP/89161234567@mts,30","2024-01-15 10:30:00","2024-01-15 10:30:05","2024-01-15 10:31:05",'
            '65,60,"ANSWERED","DOCUMENTATION","1705314600.1","AMDSTATUS=MACHINE"')
    _call_id, rows = cdr_rows(parse_cdr_line(line), cdr_options({}))
    assert call_summary(rows).outcome == "machine"
