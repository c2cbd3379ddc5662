"""AMI events to call facts, event by event (no network, no database): the flows the transcripts
do not cover — click-to-call, internal calls, Local channels, a call known only from its Cdr."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from okno.inbox.adapters.base import Malformed
from okno.telephony.adapters.asterisk import AsteriskAdapter, ami_event_body, ami_event_facts, ami_event_wanted
from okno.telephony.calls import call_summary
from okno.telephony.tests.ami_server import transcript_events

T0 = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def chan(name: str, uid: str, linked: str, *, exten: str = "s", cid: str = "", state: str = "0",
         prefix: str = "") -> dict:
    return {f"{prefix}Channel": name, f"{prefix}ChannelState": state, f"{prefix}CallerIDNum": cid or "<unknown>",
            f"{prefix}ConnectedLineNum": "<unknown>", f"{prefix}Context": "from-internal", f"{prefix}Exten": exten,
            f"{prefix}Uniqueid": uid, f"{prefix}Linkedid": linked}


def event(name: str, second: float, *parts: dict, **extra) -> dict:
    packet = {"Event": name, "Privilege": "call,all", "Timestamp": f"{T0.timestamp() + second:.6f}"}
    for part in parts:
        packet.update(part)
    return {**packet, **extra}


def summary(events: list[dict], **options):
    facts = [f for e in events for f in ami_event_facts(e, received_at=None, **options)]
    assert len({f.call_id for f in facts}) <= 1
    return call_summary([f.as_row() for f in facts])


def test_click_to_call_is_outbound_and_answered_when_the_customer_answers():
    # given Originate rang 101 (a dial with no caller, of a channel that starts its own call),
    # 101 picked up after 3 s, and the dialplan dialled the customer, who answered 8 s later
    emp = chan("PJSIP/101-00000010", "1.10", "1.10")
    emp_up = chan("PJSIP/101-00000010", "1.10", "1.10", exten="79161234567", state="6")
    trunk = chan("PJSIP/mts-00000011", "1.11", "1.10", prefix="Dest")
    events = [
        event("Newchannel", 0, emp),
        event("DialBegin", 0.01, chan("PJSIP/101-00000010", "1.10", "1.10", prefix="Dest"), DialString="101"),
        event("DialEnd", 3, chan("PJSIP/101-00000010", "1.10", "1.10", state="6", prefix="Dest"), DialStatus="ANSWER"),
        event("DialBegin", 3.1, emp_up, trunk, DialString="79161234567@mts"),
        event("DialEnd", 11, emp_up, trunk, DialStatus="ANSWER"),
        event("BridgeEnter", 11.01, emp_up, BridgeType="basic"),
        event("Hangup", 71, emp_up, Cause="16"),
    ]
    s = summary(events)
    # then the employee picking up is not the answer: the customer's is
    assert (s.direction, s.customer, s.extension, s.outcome) == ("out", "79161234567", "101", "answered")
    assert (s.answered_at, s.wait_seconds, s.talk_seconds) == (T0 + timedelta(seconds=11), 11, 60)
    # and when the customer does not answer, nobody did
    unanswered = [*events[:4], event("DialEnd", 30, emp_up, trunk, DialStatus="NOANSWER"), events[-1]]
    assert (summary(unanswered).outcome, summary(unanswered).answered_at) == ("missed", None)


def test_an_internal_call_has_no_customer():
    caller = chan("PJSIP/101-00000020", "2.20", "2.20", exten="102", state="4")
    callee = chan("PJSIP/102-00000021", "2.21", "2.20", prefix="Dest")
    s = summary([event("Newchannel", 0, caller), event("DialBegin", 0.01, caller, callee),
                 event("DialEnd", 4, caller, callee, DialStatus="ANSWER"), event("Hangup", 20, caller, Cause="16")])
    assert (s.direction, s.customer, s.extension, s.outcome) == ("internal", "", "102", "answered")


def test_busy_and_failed_outbound_dials():
    caller = chan("PJSIP/101-00000030", "3.30", "3.30", exten="89161234567", state="4")
    trunk = chan("PJSIP/mts-00000031", "3.31", "3.30", prefix="Dest")
    begin = [event("Newchannel", 0, caller), event("DialBegin", 0.01, caller, trunk)]
    busy = summary([*begin, event("DialEnd", 2, caller, trunk, DialStatus="BUSY")])
    failed = summary([*begin, event("DialEnd", 2, caller, trunk, DialStatus="CONGESTION")])
    assert (busy.direction, busy.outcome, failed.outcome) == ("out", "busy", "failed")


def test_local_channels_are_plumbing_but_their_dial_of_a_phone_rings_it():
    local = chan("Local/101@from-queue-00000002;2", "4.42", "4.40", state="4")
    phone = chan("PJSIP/101-00000043", "4.43", "4.40", prefix="Dest")
    assert not ami_event_wanted(event("Newchannel", 0, local))
    assert not ami_event_wanted(event("Hangup", 9, local, Cause="16"))
    ring = event("DialBegin", 0.02, local, phone)
    assert ami_event_wanted(ring)
    [fact] = ami_event_facts(ring, received_at=None)
    assert (fact.call_id, fact.kind, fact.leg, fact.extension, fact.direction) == ("4.40", "ring", "4.43", "101", "")


def test_which_events_are_kept():
    first_up = event("Newstate", 1, chan("PJSIP/mts-00000050", "5.50", "5.50", state="6"))
    other_up = event("Newstate", 1, chan("PJSIP/101-00000051", "5.51", "5.50", state="6"))
    ringing = event("Newstate", 1, chan("PJSIP/mts-00000050", "5.50", "5.50", state="5"))
    assert ami_event_wanted(first_up) and not ami_event_wanted(other_up) and not ami_event_wanted(ringing)
    assert not ami_event_wanted({"Event": "VarSet", "Channel": "PJSIP/101-00000051", "Variable": "DIALSTATUS"})
    assert not ami_event_wanted({"Event": "FullyBooted", "Privilege": "system,all"})


def test_a_call_known_only_from_its_cdrs():
    # cdr_manager's records, undated: the live events date a call; these only say what happened
    def cdr(**fields):
        return {"Event": "Cdr", "Privilege": "cdr,all", "Source": "79161234567", "Destination": "101",
                "DestinationChannel": "", "UniqueID": "6.60", "Channel": "PJSIP/mts-00000060", **fields}

    answered = summary([cdr(DestinationChannel="PJSIP/101-00000061", Disposition="ANSWERED")])
    assert (answered.direction, answered.customer, answered.outcome, answered.started_at) == (
        "in", "79161234567", "answered", None)
    abandoned = summary([cdr(Destination="s", Disposition="ANSWERED")])
    assert abandoned.outcome == "abandoned"
    outbound = summary([cdr(Channel="PJSIP/101-00000062", Source="101", Destination="89161234567",
                            DestinationChannel="PJSIP/mts-00000063", Disposition="BUSY")])
    assert (outbound.direction, outbound.customer, outbound.extension, outbound.outcome) == (
        "out", "89161234567", "101", "busy")
    assert ami_event_facts(cdr(Channel="Local/101@from-queue-00000064;1", Disposition="ANSWERED"),
                           received_at=None) == []


def test_a_parked_call_is_nobody_talking_and_a_custom_pattern_names_extensions():
    parked = event("BridgeEnter", 1, chan("PJSIP/101-00000070", "7.70", "7.69"), BridgeType="parking")
    assert ami_event_facts(parked, received_at=None) == []
    # a PBX whose phones are named by account (SIP/150010002-...), the extension being its last digits
    ring = event("DialBegin", 0, chan("SIP/trunk-00000071", "7.71", "7.71"),
                 chan("SIP/150010002-00000072", "7.72", "7.71", prefix="Dest"))
    [fact] = ami_event_facts(ring, received_at=None, extension_pattern=r"^SIP/1500100(\d\d)-")
    assert (fact.kind, fact.extension) == ("ring", "02")
    assert ami_event_facts(ring, received_at=None) == []  # by default: a trunk dialling a trunk


def test_events_are_read_from_their_stored_json_and_bad_ones_rejected():
    adapter = AsteriskAdapter()
    channel = SimpleNamespace(settings={})
    received = T0 + timedelta(hours=1)
    [hangup] = transcript_events("old_hangup")
    [fact] = adapter.parse_event(SimpleNamespace(body=ami_event_body(hangup), received_at=received, channel=channel))
    assert (fact.call_id, fact.kind, fact.at, fact.leg) == ("1487595974.304", "end", received, "1487595974.304")
    for body in (b"Event: Hangup", b"[]", b'{"Privilege": "call,all"}'):
        with pytest.raises(Malformed):
            adapter.parse_event(SimpleNamespace(body=body, received_at=received, channel=channel))
    with pytest.raises(Malformed):
        ami_event_facts({"Event": "Hangup", "Channel": "PJSIP/101-1"}, received_at=received)
