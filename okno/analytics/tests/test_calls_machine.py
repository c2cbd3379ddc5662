"""An answering machine (Asterisk's AMD) is neither answered nor successful, and does not call a
missed call back: nobody talked to the customer."""

from datetime import timedelta

from okno.analytics.tests.factories import local, make_call, pbx
from okno.telephony.calls import CallFact, call_fact_record
from okno.telephony.models import Call

DAY = "2026-11-10"


def report(api, **params):
    response = api.get("/api/v1/analytics/calls", **{"from": DAY, "to": DAY, **params})
    assert response.status_code == 200, response.content
    return response.json()


def machine_call(call_id: str, at, number: str) -> Call:
    """An outbound call recorded from its facts: the far end answered after 5 s, AMD said MACHINE,
    the line was open 60 s."""
    channel = pbx()
    for kind, seconds, outcome in (("start", 0, ""), ("answer", 5, ""), ("machine", 8, "machine"), ("end", 65, "")):
        call_fact_record(channel=channel, fact=CallFact(
            call_id=call_id, kind=kind, at=at + timedelta(seconds=seconds), direction="out", customer=number,
            extension="101", outcome=outcome))
    return Call.objects.get(pbx_call_id=call_id)


def test_a_machine_is_neither_answered_nor_successful(api):
    # given an outbound call a person answered (60 s) and one an answering machine took (60 s)
    make_call(at=local(DAY, 10), direction="out", talk=60)
    call = machine_call("amd-1", local(DAY, 11), "+74950000005")
    assert (call.outcome, call.talk_seconds) == ("machine", 60)
    # when the report is read
    totals = report(api)["totals"]
    # then both are calls, only the person's is answered, successful and talk
    assert (totals["calls"], totals["answered"], totals["successful"]) == (2, 1, 1)
    assert totals["talk_seconds"] == 60
    assert totals["missed"] == 0  # an outbound call is never missed


def test_a_machine_does_not_call_a_missed_call_back(api):
    # given a missed inbound call, and an outbound call to the number 5 minutes later that a
    # machine answered
    number = "+74950000006"
    make_call(at=local(DAY, 9), outcome="missed", wait=20, number=number)
    machine_call("amd-2", local(DAY, 9, 5), number)
    # then the missed call is still not called back
    totals = report(api)["totals"]
    assert (totals["missed"], totals["missed_not_called_back"]) == (1, 1)
