"""Live reports: a call or chat that ends pushes `reports_changed` to the open report pages that
may count it, once per user a second, after the commit."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from okno.analytics import live
from okno.analytics.live import PUSH_KIND, report_viewer_watch, reports_changed_send
from okno.analytics.models_boards import ReportViewer, TeamBoard
from okno.analytics.tests.factories import pbx
from okno.core import events
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.push.models import Push
from okno.telephony.calls import CallFact, call_fact_record
from okno.telephony.models import PbxExtension


@pytest.fixture(autouse=True)
def _fresh_live():
    live.live_forget()
    yield
    live.live_forget()


@pytest.fixture
def company(db):
    sales = DepartmentFactory(name="Продажи")
    north = DepartmentFactory(name="Север", parent=sales)
    support = DepartmentFactory(name="Поддержка")
    return {
        "sales": sales, "north": north, "support": support,
        "admin": UserFactory(role=User.Role.ADMIN, department=None),
        "head": UserFactory(role=User.Role.HEAD, department=sales),
        "other_head": UserFactory(role=User.Role.HEAD, department=support),
        "anna": UserFactory(department=north),
        "boris": UserFactory(department=north),
    }


def _pushed() -> set[int]:
    return set(Push.objects.filter(kind=PUSH_KIND).values_list("user_id", flat=True))


def _end_call(channel, *, call_id: str, extension: str, at):
    call_fact_record(channel=channel, fact=CallFact(call_id=call_id, kind="start", at=at, direction="in",
                                                    customer="+79161234567"))
    call_fact_record(channel=channel, fact=CallFact(call_id=call_id, kind="ring", at=at, leg=f"{call_id}.1",
                                                    extension=extension))
    call_fact_record(channel=channel, fact=CallFact(call_id=call_id, kind="answer", at=at + timedelta(seconds=3),
                                                    leg=f"{call_id}.1", extension=extension))
    return call_fact_record(channel=channel, fact=CallFact(call_id=call_id, kind="end", at=at + timedelta(seconds=60)))


def test_a_finished_call_pushes_to_whoever_has_a_report_open_and_may_see_it(company,
                                                                          django_capture_on_commit_callbacks):
    # given everyone has a report open, and Anna takes calls on extension 101
    for name in ("admin", "head", "other_head", "anna", "boris"):
        report_viewer_watch(user=company[name])
    channel = pbx()
    PbxExtension.objects.create(channel=channel, code="101", user=company["anna"])
    # when Anna's call ends (the telephony's own path: call.finished)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call = _end_call(channel, call_id="c1", extension="101", at=timezone.now() - timedelta(minutes=1))
    # then after the commit the administrator, the head of her tree and Anna are told; the other
    # department's head and her colleague (who may not see her figures) are not
    assert call.outcome == "answered" and callbacks
    assert _pushed() == {company["admin"].pk, company["head"].pk, company["anna"].pk}
    assert set(Push.objects.filter(kind=PUSH_KIND).values_list("payload__wait_ms", flat=True)) <= set(range(100, 1101))


def test_nobody_with_no_report_open_is_pushed_to(company, django_capture_on_commit_callbacks):
    # given only the other head has a report open, and the head's page closed long ago
    report_viewer_watch(user=company["other_head"])
    report_viewer_watch(user=company["head"], now=timezone.now() - timedelta(hours=1))
    # when a call of the north department ends
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("call.finished", subject=_call(company["anna"]))
    # then no push is written
    assert _pushed() == set()


class _Clock:
    def __init__(self, at: float):
        self.at = at

    def __call__(self) -> float:
        return self.at


def _call(employee):
    from okno.analytics.tests.factories import make_call

    return make_call(at=timezone.now(), employee=employee)


def test_fifty_calls_in_a_second_make_one_push_per_user(company, django_assert_max_num_queries):
    # given the head has a report open
    report_viewer_watch(user=company["head"])
    clock = _Clock(1_000_000.2)
    # when 50 calls of the department end within the same second
    sent = [reports_changed_send(department_id=company["north"].pk, employee_id=company["anna"].pk, clock=clock)]
    clock.at = 1_000_000.9
    with django_assert_max_num_queries(0):  # the other 49 cost no query at all
        sent += [reports_changed_send(department_id=company["north"].pk, employee_id=company["anna"].pk, clock=clock)
                 for _ in range(49)]
    # then one push went out, telling the page to wait for the end of that second
    assert sent == [1] + [0] * 49
    push = Push.objects.get()
    assert (push.user_id, push.key, push.payload) == (company["head"].pk, "1000000", {"wait_ms": 900})
    # and the next second's call pushes again
    clock.at = 1_000_001.05
    assert reports_changed_send(department_id=company["north"].pk, employee_id=None, clock=clock) == 1


def test_another_process_that_already_pushed_this_second_adds_nothing(company):
    # given two processes (each its own memory) and the head's report open
    report_viewer_watch(user=company["head"])
    clock = _Clock(2_000_000.5)
    reports_changed_send(department_id=company["sales"].pk, employee_id=None, clock=clock)
    live.live_forget()  # the second process
    # when it sees a call of the same second
    reports_changed_send(department_id=company["sales"].pk, employee_id=None, clock=clock)
    # then the push table's (user, kind, key) keeps one row
    assert Push.objects.count() == 1


def test_a_board_open_on_a_managers_screen_is_pushed_its_departments_calls(company, django_capture_on_commit_callbacks):
    # given the north board is open on Boris's screen (a manager: the report alone shows him his own calls)
    board = TeamBoard.objects.create(department=company["north"], name="Пропущенные", metric="missed")
    report_viewer_watch(user=company["boris"], topic=f"board:{board.pk}")
    # when Anna's call ends
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("call.finished", subject=_call(company["anna"]))
    # then Boris's board re-fetches
    assert _pushed() == {company["boris"].pk}


def test_a_finished_chat_pushes_to_the_operators_head(company, django_capture_on_commit_callbacks):
    # given the head has a report open
    report_viewer_watch(user=company["head"])
    # when a chat of Anna's ends (inbox publishes chat.finished)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("chat.finished", subject=None, data={"operator_id": company["anna"].pk,
                                                            "department_id": company["north"].pk})
    # then the head is told
    assert _pushed() == {company["head"].pk}


def test_the_page_says_it_is_open(company):
    client = Client()
    client.force_login(company["anna"])
    # when the page's script says it is open
    response = client.post("/reports/live/watch", {"topic": "reports"})
    # then Anna counts as a viewer for ten minutes
    assert response.status_code == 204
    viewer = ReportViewer.objects.get(user=company["anna"])
    assert timezone.now() + timedelta(minutes=9) < viewer.until <= timezone.now() + timedelta(minutes=10)


def test_watching_a_board_one_may_not_see_or_a_made_up_topic_is_refused(company):
    board = TeamBoard.objects.create(department=company["support"], name="Поддержка", metric="missed")
    client = Client()
    client.force_login(company["anna"])
    # when Anna watches another department's board, or an unknown topic
    other = client.post("/reports/live/watch", {"topic": f"board:{board.pk}"})
    junk = client.post("/reports/live/watch", {"topic": "everything"})
    # then neither is recorded: a 404 for the board, a 422 naming the topic
    assert other.status_code == 404
    assert junk.status_code == 422 and junk.json()["errors"] == [{"field": "topic", "reason": "unknown topic"}]
    assert not ReportViewer.objects.exists()


def test_the_calls_page_includes_the_live_script(company):
    # when the head opens the calls report
    client = Client()
    client.force_login(company["head"])
    page = client.get("/reports/calls/").content.decode()
    # then the page carries the live part: the script, and the link to save the report
    assert 'id="report-live"' in page
    assert "analytics/live.js" in page
    assert 'id="report-save"' in page


@pytest.mark.parametrize("kind", ["chats", "process"])
def test_the_chats_and_process_pages_include_it_too(company, kind):
    client = Client()
    client.force_login(company["head"])
    page = client.get(f"/reports/{kind}/").content.decode()
    assert 'id="report-live"' in page and f"kind={kind}" in page


def test_a_jivo_chat_that_ends_pushes_through_the_inbox(company, django_capture_on_commit_callbacks):
    from okno.inbox.items import InboundItem, Sender
    from okno.inbox.services import inbound_item_record
    from okno.inbox.tests.factories import make_channel

    # given the head has a report open, and Anna (of the head's tree) operates the site's chat
    company["anna"].email = "anna@example.com"
    company["anna"].save()
    report_viewer_watch(user=company["head"])
    jivo = make_channel(kind="jivo", name="Чат на сайте")
    sender = Sender(name="Иван", phones=["+79161234567"])
    inbound_item_record(channel=jivo, item=InboundItem(conversation_kind="chat", thread_id="t1", message_id="m1",
                                                       sender=sender, text="Здравствуйте"))
    # when the chat's end arrives (Jivo's chat_finished, operated by Anna)
    with django_capture_on_commit_callbacks(execute=True):
        inbound_item_record(channel=jivo, item=InboundItem(
            conversation_kind="chat", thread_id="t1", message_id="chat_finished", sender=sender,
            operator_email="anna@example.com", facts={"finished_at": timezone.now()}))
    # then the head's report is told, once
    assert _pushed() == {company["head"].pk}
