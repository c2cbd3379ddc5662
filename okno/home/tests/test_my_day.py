"""The home page is the user's day, and the sidebar holds the product with its counters."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.deals.models import Lead
from okno.deals.tests.factories import DealFactory, PipelineFactory, stage_of
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.robots.models import Robot
from okno.robots.models_runs import Deadline
from okno.work.models import WorkItem


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def deadline(deal, *, status, due_at, stage=None) -> Deadline:
    stage = stage or deal.stage
    robot = Robot.objects.create(pipeline=deal.pipeline, stage=stage, kind=Robot.Kind.DEADLINE, within="PT30M")
    return Deadline.objects.create(robot=robot, deal=deal, stage=stage, due_at=due_at, run_after=due_at,
                                   status=status)


def work_item(user, *, due_at, **fields) -> WorkItem:
    return WorkItem.objects.create(kind=WorkItem.Kind.CALLBACK, assignee=user, due_at=due_at, **fields)


def lead(user, *, status=Lead.Status.NEW, title="Нужен счёт", **fields) -> Lead:
    contact = make_contact(first_name="Ольга", last_name="Смирнова")
    return Lead.objects.create(contact=contact, assignee=user, status=status, title=title,
                               department=user.department if user else fields.pop("department", None), **fields)


def test_home_shows_my_missed_and_due_today_deadlines_new_leads_and_todays_work(db):
    # given a manager with a missed deadline, one due today and one due next week; a colleague's
    me, colleague = UserFactory(), UserFactory()
    now = timezone.now()
    pipeline = PipelineFactory()
    late = DealFactory(pipeline=pipeline, responsible=me, title="Заказ 101", is_overdue=True)  # as robots mark it
    soon = DealFactory(pipeline=pipeline, responsible=me, title="Заказ 102")
    later = DealFactory(pipeline=pipeline, responsible=me, title="Заказ 103")
    moved_on = DealFactory(pipeline=pipeline, responsible=me, title="Заказ 104",
                           stage=stage_of(pipeline, "paused"))
    theirs = DealFactory(pipeline=pipeline, responsible=colleague, title="Чужой заказ", is_overdue=True)
    # an overdue deal with an older miss from a stage it has since left: only the current stage's shows
    again = DealFactory(pipeline=pipeline, responsible=me, title="Заказ 105", is_overdue=True,
                        stage=stage_of(pipeline, "paused"))
    deadline(again, status="missed", due_at=now - timedelta(days=2), stage=stage_of(pipeline))
    deadline(late, status="missed", due_at=now - timedelta(hours=2))
    deadline(soon, status="open", due_at=min(now + timedelta(minutes=1), now.replace(hour=23, minute=59)))
    deadline(later, status="open", due_at=now + timedelta(days=7))
    deadline(moved_on, status="missed", due_at=now - timedelta(hours=3), stage=stage_of(pipeline))  # left it since
    deadline(theirs, status="missed", due_at=now - timedelta(hours=1))
    lead(me, title="Хочу диван"), lead(me, title="Уже в работе", status=Lead.Status.IN_WORK)
    lead(colleague, title="Чужой лид")
    work_item(me, due_at=now - timedelta(minutes=10), number="+79161234567")
    work_item(me, due_at=now + timedelta(days=3), number="+79030000000")
    work_item(colleague, due_at=now, number="+79035555555")
    # when the manager opens "/"
    page = logged_in(me).get("/").content.decode()
    # then
    deadlines = page[page.index('id="day-deadlines"'):page.index('id="day-leads"')]
    assert "Заказ 101" in deadlines and "Заказ 102" in deadlines
    assert "Заказ 103" not in deadlines and "Заказ 104" not in deadlines and "Заказ 105" not in deadlines
    assert "Чужой" not in deadlines
    assert f'href="/deals/{late.pk}/"' in deadlines
    leads = page[page.index('id="day-leads"'):page.index('id="day-work"')]
    assert "Хочу диван" in leads and "Уже в работе" not in leads and "Чужой лид" not in leads
    work = page[page.index('id="day-work"'):]
    assert "+79161234567" in work and "+79030000000" not in work and "+79035555555" not in work
    # and the sidebar's "My day" counts what is overdue: the two deals marked overdue and the late call
    nav = page[page.index('id="nav-my-day"'):]
    assert 'data-count="3"' in nav[:nav.index("</a>")]


def test_home_needs_a_login_and_stays_a_handful_of_queries(db, django_assert_max_num_queries):
    assert Client().get("/")["Location"].startswith("/login/")
    me = UserFactory()
    client = logged_in(me)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    # session + user, three panels (deadlines on deals and leads), counters: none per row
    assert len(queries) <= 16, [q["sql"] for q in queries]


def test_sidebar_by_role_with_queue_counter_and_every_old_top_bar_link(db):
    # given a head of a department with a subdepartment, an unassigned lead in each, and one elsewhere
    sales = DepartmentFactory(name="Продажи")
    east = DepartmentFactory(name="Восток", parent=sales)
    head = UserFactory(role=User.Role.HEAD, department=sales)
    manager = UserFactory(department=sales)
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    lead(None, department=sales), lead(None, department=east), lead(None, department=DepartmentFactory())
    lead(manager, title="Мой")  # assigned: not in the queue
    # when each opens a page
    head_page = logged_in(head).get("/contacts/").content.decode()
    manager_page = logged_in(manager).get("/contacts/").content.decode()
    admin_page = logged_in(admin).get("/contacts/").content.decode()

    def item(page, dom_id):
        at = page.index(f'id="{dom_id}"')
        return page[page.rindex("<a ", 0, at):page.index("</a>", at)]

    # then the head's queue counts their subtree's two, the administrator's all three
    assert 'data-count="2"' in item(head_page, "nav-unassigned")
    assert 'data-count="3"' in item(admin_page, "nav-unassigned")
    assert "nav-unassigned" not in manager_page and "nav-all-leads" not in manager_page
    assert 'data-count="1"' in item(manager_page, "nav-my-leads") and "badge-off" in item(manager_page, "nav-my-leads")
    assert 'class="active"' in item(manager_page, "nav-contacts")
    # every page the old top bar linked to is still reachable
    for url in ["/contacts/", "/contacts/companies/", "/contacts/duplicates/", "/contacts/import/", "/leads/"]:
        assert f'href="{url}"' in manager_page
    for url in ["/inbox/channels/", "/inbox/problems/", "/telephony/unmatched/", "/people/",
                "/contacts/custom-fields/"]:
        assert f'href="{url}"' in admin_page and f'href="{url}"' not in manager_page
    assert 'hx-get="/leads/notifications/"' in manager_page


@pytest.mark.parametrize("language, words", [("en", ["Work", "My day", "My leads", "Contacts", "Companies"]),
                                              ("ru", ["Работа", "Мой день", "Мои лиды", "Контакты", "Компании"])])
def test_sidebar_speaks_the_users_language(db, language, words):
    page = logged_in(UserFactory(language=language)).get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<html lang="{language}">' in page
    sidebar = page[page.index('class="sidebar"'):page.index("</nav>", page.index('class="sidebar"'))]
    for word in words:
        assert word in sidebar, word
