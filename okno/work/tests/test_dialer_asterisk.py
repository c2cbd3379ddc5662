"""The progressive auto-dialer through Asterisk: against the project's AMI replay server, which
here also raises the OriginateResponse a real Asterisk sends once the dialled customer answers
(or does not)."""

from collections import deque
from datetime import timedelta

import pytest
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.ami import field, packet_format
from okno.telephony.models import PbxExtension
from okno.telephony.tests.ami_server import AmiReplayServer
from okno.work.dialer import dial_attempt_plan, dial_leases_expire, dialer_drain, dialer_tick
from okno.work.models import AgentState, DialAttempt, DialerSettings, WorkItem
from okno.work.states import agent_state_set
from okno.work.tests.factories import just_closed, make_item


class DialerAmi(AmiReplayServer):
    """Answers each Originate as Asterisk does (queued), then raises its OriginateResponse:
    `results` holds (Response, Reason) per call, answered by default."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.results: deque[tuple[str, str]] = deque()

    def _answer(self, sock, packet):
        going_on = super()._answer(sock, packet)
        if field(packet, "Action").lower() == "originate":
            response, reason = self.results.popleft() if self.results else ("Success", "4")
            sock.sendall(packet_format([
                ("Event", "OriginateResponse"), ("Privilege", "call,all"), ("ActionID", field(packet, "ActionID")),
                ("Response", response), ("Channel", field(packet, "Channel")), ("Context", field(packet, "Context")),
                ("Exten", field(packet, "Exten")), ("Reason", reason), ("Uniqueid", "1733241600.17"),
                ("CallerIDNum", "<unknown>"), ("CallerIDName", "<unknown>")]))
        return going_on


@pytest.fixture
def ami():
    with DialerAmi() as server:
        yield server


@pytest.fixture
def centre(db):
    return DepartmentFactory(name="Колл-центр")


@pytest.fixture
def line(centre, ami):
    return make_channel(kind="asterisk", name="Asterisk", department=centre,
                        settings=ami.settings(context="okno-out", dialer_context="okno-agents"))


@pytest.fixture
def dialer(centre, line):
    return DialerSettings.objects.create(department=centre, enabled=True, channel=line, lines=2, ring_seconds=20,
                                         max_attempts=2)


def operator(centre, line, code="101"):
    user = UserFactory(department=centre)
    PbxExtension.objects.create(channel=line, code=code, user=user)
    just_closed(user)
    agent_state_set(user=user, state="idle")
    return user


def customer_item(centre, phone="+7 916 123-45-67", **fields):
    contact = make_contact(first_name="Ольга", phones=[phone])
    return make_item(kind="new_lead", contact=contact, department=centre, **fields)


def test_a_free_operator_is_put_through_when_the_customer_answers(centre, line, dialer, ami):
    # given an idle operator on extension 101 and a due item of the queue
    olga = operator(centre, line)
    item = customer_item(centre)
    # when the worker's drain runs
    dialer_drain(wait=True)
    # then Asterisk dialled the customer through the outbound context, the operator's extension on answer
    originate = next(a for a in ami.actions if a["Action"] == "Originate")
    assert (originate["Channel"], originate["Context"], originate["Exten"], originate["Timeout"]) == (
        "Local/79161234567@okno-out", "okno-agents", "101", "20000")
    assert ami.logins and ami.logins[0] == ("okno", True)
    # and the operator is on the call with the item, which is theirs
    attempt = DialAttempt.objects.get()
    assert (attempt.status, attempt.item_id, attempt.operator_id) == ("answered", item.pk, olga.pk)
    state = AgentState.objects.get(user=olga)
    assert (state.state, state.item_id) == ("on_call", item.pk)
    assert WorkItem.objects.get(pk=item.pk).assignee_id == olga.pk


@pytest.mark.parametrize("reason, status", [("3", "no_answer"), ("5", "busy"), ("8", "failed"), ("0", "failed")])
def test_no_answer_busy_and_failed_send_the_item_back_after_the_retry(centre, line, dialer, ami, reason, status):
    olga = operator(centre, line)
    item = customer_item(centre)
    ami.results.append(("Failure", reason))
    before = timezone.now()
    dialer_drain(wait=True)
    attempt = DialAttempt.objects.get()
    assert attempt.status == status and reason in attempt.reason
    item.refresh_from_db()
    # the department's retry (60 minutes by default), back in the queue; the operator stays free
    assert item.status == "open" and item.assignee_id is None
    assert item.due_at >= before + timedelta(minutes=59)
    assert AgentState.objects.get(user=olga).state == "idle"


def test_tried_enough_the_item_is_closed_as_not_reached(centre, line, dialer, ami):
    operator(centre, line)
    item = customer_item(centre)
    ami.results.extend([("Failure", "3"), ("Failure", "5")])
    dialer_drain(wait=True)
    WorkItem.objects.filter(pk=item.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    dialer_drain(wait=True)
    item.refresh_from_db()
    assert item.status == "done" and "not reached after 2 tries" in item.closed_reason
    assert DialAttempt.objects.count() == 2


def test_one_call_per_free_operator_and_only_while_lines_last(centre, line, dialer, ami):
    # given three idle operators, two lines, five due items, and one operator on a break
    free = [operator(centre, line, code=str(101 + i)) for i in range(3)]
    resting = operator(centre, line, code="199")
    agent_state_set(user=resting, state="break")
    for i in range(5):
        customer_item(centre, phone=f"+7 916 000-00-0{i}")
    # when the tick plans calls (twice: a second worker, a second pass)
    assert dialer_tick() == 2
    assert dialer_tick() == 0
    # then two calls, for two different free operators, on two different items
    attempts = list(DialAttempt.objects.filter(status="pending"))
    assert len({a.operator_id for a in attempts}) == 2 and len({a.item_id for a in attempts}) == 2
    assert {a.operator_id for a in attempts} <= {u.pk for u in free}


@pytest.mark.parametrize("setup, expected", [
    ("off", "автообзвон выключен"),
    ("busy_lines", "Нет свободной линии"),
    ("not_idle", "Вы не свободны"),
    ("in_flight", "уже набирается звонок"),
])
def test_refusals_name_the_reason(centre, line, dialer, api_as, setup, expected):
    olga = operator(centre, line)
    customer_item(centre)
    if setup == "off":
        DialerSettings.objects.filter(pk=dialer.pk).update(enabled=False)
    elif setup == "busy_lines":
        DialerSettings.objects.filter(pk=dialer.pk).update(lines=1)
        other = operator(centre, line, code="102")
        dial_attempt_plan(operator=other)
    elif setup == "not_idle":
        agent_state_set(user=olga, state="break")
    else:
        dial_attempt_plan(operator=olga)
    answer = api_as(olga).post("/api/v1/work/dialer/dial")  # in the user's language: ru
    assert answer.status_code == 409 and expected in answer.json()["detail"], answer.content
    if setup == "busy_lines":
        assert answer.json()["lines_busy"] == 1


def test_an_operator_without_an_extension_is_told_which_field(centre, line, dialer, api_as):
    user = UserFactory(department=centre)
    agent_state_set(user=user, state="idle")
    answer = api_as(user).post("/api/v1/work/dialer/dial")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "extension"


def test_dial_now_answers_202_with_the_attempt_and_204_when_nothing_is_due(centre, line, dialer, api_as):
    olga = operator(centre, line)
    assert api_as(olga).post("/api/v1/work/dialer/dial").status_code == 204
    item = customer_item(centre)
    answer = api_as(olga).post("/api/v1/work/dialer/dial")
    assert answer.status_code == 202 and answer.json()["item_id"] == item.pk
    assert answer.json()["number"] == "+79161234567" and answer.json()["status"] == "pending"


def test_an_item_without_a_number_is_closed_and_the_next_one_dialled(centre, line, dialer, ami):
    operator(centre, line)
    numberless = make_item(kind="new_lead", department=centre, due_in_minutes=-10)
    dialable = customer_item(centre)
    dialer_drain(wait=True)
    numberless.refresh_from_db()
    assert numberless.status == "done" and "no phone number" in numberless.closed_reason
    assert DialAttempt.objects.get(status="answered").item_id == dialable.pk


def test_a_dead_worker_s_call_fails_after_its_lease_and_the_item_is_retried(centre, line, dialer):
    olga = operator(centre, line)
    item = customer_item(centre)
    attempt = dial_attempt_plan(operator=olga)
    DialAttempt.objects.filter(pk=attempt.pk).update(status="dialing", dialed_at=timezone.now(),
                                                      locked_until=timezone.now() - timedelta(seconds=1))
    assert dial_leases_expire() == 1
    attempt.refresh_from_db()
    assert attempt.status == "failed" and "no word" in attempt.reason
    item.refresh_from_db()
    assert item.assignee_id is None and item.due_at > timezone.now()


def test_an_unreachable_pbx_fails_the_attempt_without_losing_the_item(centre, line, dialer):
    with AmiReplayServer() as gone:
        port = gone.port
    line.settings = {**line.settings, "port": port}
    line.save()
    operator(centre, line)
    item = customer_item(centre)
    dialer_drain(wait=True)
    attempt = DialAttempt.objects.get()
    assert attempt.status == "failed" and "unreachable" in attempt.reason
    item.refresh_from_db()
    assert item.status == "open" and item.assignee_id is None
