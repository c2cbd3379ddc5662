"""Click-to-call through Asterisk: a short AMI session (Login with events off, Originate, Logoff)
against the local replay server; refusals are kept with Asterisk's reason, outages retried."""

import pytest

from okno.contacts.tests.factories import make_contact
from okno.inbox.adapters.base import SendFailed
from okno.people.tests.factories import UserFactory
from okno.telephony.adapters.asterisk import AsteriskAdapter
from okno.telephony.click_to_call import call_requests_drain
from okno.telephony.models import CallRequest, PbxExtension
from okno.telephony.tests.ami_server import AmiReplayServer
from okno.telephony.tests.test_asterisk import pbx, sales, server  # noqa: F401


def actions(server: AmiReplayServer) -> list[str]:  # noqa: F811
    return [a["Action"] for a in server.actions]


def test_originate_rings_the_extension_then_dials_the_customer(pbx, server):  # noqa: F811
    # when a call to +7 916 123-45-67 is placed from extension 101
    AsteriskAdapter().originate(pbx, extension="101", number="+79161234567", command_id="okno-1f2e")
    # then one short session: a login that wants no events, the Originate, a goodbye
    assert actions(server) == ["Login", "Originate", "Logoff"]
    login, originate = server.actions[0], server.actions[1]
    assert (login["Username"], login["Secret"], login["Events"]) == ("okno", "s3cret", "off")
    assert {k: v for k, v in originate.items() if k != "Action"} == {
        "ActionID": "okno-1f2e", "Channel": "PJSIP/101", "Context": "from-internal", "Exten": "79161234567",
        "Priority": "1", "CallerID": '"79161234567" <79161234567>', "Timeout": "30000", "Async": "true",
        "Variable": "OKNO_COMMAND_ID=okno-1f2e"}


def test_originate_follows_the_channels_template_and_context(pbx, server):  # noqa: F811
    pbx.settings = server.settings(originate_channel="SIP/{extension}@office", context="okno-out",
                                   originate_timeout_seconds=20)
    AsteriskAdapter().originate(pbx, extension="205", number="+74951234567", command_id="c2")
    originate = server.actions[1]
    assert (originate["Channel"], originate["Context"], originate["Exten"], originate["Timeout"]) == (
        "SIP/205@office", "okno-out", "74951234567", "20000")


def test_a_refused_originate_is_not_retried_and_keeps_asterisks_reason(pbx, server):  # noqa: F811
    server.originate_answers.append([("Response", "Error"), ("Message", "Extension does not exist.")])
    with pytest.raises(SendFailed) as failed:
        AsteriskAdapter().originate(pbx, extension="101", number="+79161234567", command_id="c3")
    assert failed.value.retry is False and "Extension does not exist." in str(failed.value)
    assert actions(server)[-1] == "Logoff"


def test_a_wrong_secret_is_a_refusal_and_an_unreachable_pbx_is_retried(pbx, server):  # noqa: F811
    pbx.settings = server.settings(secret="wrong")
    with pytest.raises(SendFailed) as refused:
        AsteriskAdapter().originate(pbx, extension="101", number="+79161234567", command_id="c4")
    assert refused.value.retry is False and "Authentication failed" in str(refused.value)
    with AmiReplayServer() as gone:
        port = gone.port
    pbx.settings = server.settings(port=port)
    with pytest.raises(SendFailed) as unreachable:
        AsteriskAdapter().originate(pbx, extension="101", number="+79161234567", command_id="c5")
    assert unreachable.value.retry is True and "unreachable" in str(unreachable.value)


def test_a_manager_calls_a_customer_from_the_card_through_asterisk(pbx, sales, server, api_as):  # noqa: F811
    # given a manager on extension 101 of the Asterisk and their customer
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=pbx, code="101", user=manager)
    contact = make_contact(first_name="Ольга", phones=["8 (916) 123-45-67"], responsible_id=manager.pk)
    # when the manager presses the number and the worker sends the request
    r = api_as(manager).post("/api/v1/calls", {"contact_id": contact.pk})
    assert r.status_code == 202, r.content
    assert call_requests_drain() == 1
    # then Asterisk got the Originate under the request's command id
    request = CallRequest.objects.get()
    originate = next(a for a in server.actions if a["Action"] == "Originate")
    assert (originate["ActionID"], originate["Channel"], originate["Exten"]) == (
        request.command_id, "PJSIP/101", "79161234567")
    assert request.status == "sent"
