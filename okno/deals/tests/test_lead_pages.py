"""The leads pages: all leads for heads and administrators (filters, pages, bulk reassign), and
a lead's end from its row or the card (convert to a deal, close as lost)."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from okno.contacts.models import Contact
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Deal, Lead
from okno.deals.tests.factories import LostReasonFactory, PipelineFactory, stage_of
from okno.inbox.tests.factories import make_channel
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def lead(*, assignee=None, department=None, title="Нужен счёт", status=Lead.Status.NEW, channel=None,
         days_ago=0) -> Lead:
    department = department or (assignee.department if assignee else None)
    contact = make_contact(actor=assignee, first_name="Ольга", last_name=title)
    Contact.objects.filter(pk=contact.pk).update(department=department)  # the card sits in the lead's department
    row = Lead.objects.create(contact=contact, assignee=assignee, department=department, title=title, status=status,
                              channel=channel)
    if days_ago:
        Lead.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return row


def rows(page: str) -> str:
    return page[page.index('id="leads-all"'):]


def test_all_leads_is_for_heads_and_administrators_and_shows_what_they_may_see(db):
    # given a head of sales (with a subdepartment), a manager, and leads in and out of the head's tree
    sales = DepartmentFactory()
    east = DepartmentFactory(parent=sales)
    head, manager = UserFactory(role=User.Role.HEAD, department=sales), UserFactory(department=sales)
    lead(assignee=manager, title="Мой-лид"), lead(department=east, title="Очередь-Восток")
    lead(department=DepartmentFactory(), title="Чужой-отдел")
    # when / then
    assert logged_in(manager).get("/leads/all/").status_code == 403
    page = rows(logged_in(head).get("/leads/all/").content.decode())
    assert "Мой-лид" in page and "Очередь-Восток" in page and "Чужой-отдел" not in page
    admin_page = rows(logged_in(UserFactory(role=User.Role.ADMIN)).get("/leads/all/").content.decode())
    assert "Чужой-отдел" in admin_page


def test_filters_status_channel_assignee_unassigned_and_period(db):
    admin = UserFactory(role=User.Role.ADMIN)
    manager = UserFactory()
    site, telegram = make_channel(name="Сайт"), make_channel(name="Телеграм", kind="telegram")
    lead(assignee=manager, title="Сайтовый", channel=site)
    lead(assignee=manager, title="Телеграмный", channel=telegram, days_ago=10)
    lead(department=manager.department, title="Ничейный", channel=site)
    lead(assignee=manager, title="Проигранный", status=Lead.Status.LOST)
    client = logged_in(admin)

    def shown(**query):
        page = rows(client.get("/leads/all/", query).content.decode())
        return {t for t in ["Сайтовый", "Телеграмный", "Ничейный", "Проигранный"] if t in page}

    assert shown() == {"Сайтовый", "Телеграмный", "Ничейный"}  # open by default
    assert shown(status="") == {"Сайтовый", "Телеграмный", "Ничейный", "Проигранный"}
    assert shown(status="lost") == {"Проигранный"}
    assert shown(channel=telegram.pk) == {"Телеграмный"}
    assert shown(assignee="none") == {"Ничейный"}
    assert shown(assignee=manager.pk) == {"Сайтовый", "Телеграмный"}
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert shown(created_from=since) == {"Сайтовый", "Ничейный"}
    until = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert shown(created_to=until) == {"Телеграмный"}


def test_pages_of_fifty_keep_the_filters(db):
    admin = UserFactory(role=User.Role.ADMIN)
    contact = make_contact()
    Lead.objects.bulk_create([Lead(contact=contact, title=f"Лид {i}") for i in range(55)])
    page = logged_in(admin).get("/leads/all/", {"assignee": "none"}).content.decode()
    assert page.count('name="lead"') == 50 and "1 / 2" in page and "?assignee=none&amp;status=open&amp;page=2" in page
    second = logged_in(admin).get("/leads/all/", {"assignee": "none", "page": 2}).content.decode()
    assert second.count('name="lead"') == 5


def test_bulk_reassign_gives_ticked_leads_to_a_person_or_back_to_the_queue(db):
    # given a head, two managers of the department and two queued leads
    sales = DepartmentFactory()
    head = UserFactory(role=User.Role.HEAD, department=sales)
    anna, boris = UserFactory(department=sales), UserFactory(department=sales)
    one, two = lead(department=sales, title="Первый"), lead(department=sales, title="Второй")
    other = UserFactory()  # another department: not assignable by this head
    client = logged_in(head)
    # when the head gives both to Anna
    r = client.post("/leads/reassign/", {"lead": [one.pk, two.pk], "assignee": anna.pk,
                                         "next": "/leads/all/?assignee=none"})
    # then
    assert r.status_code == 302 and r["Location"] == "/leads/all/?assignee=none"
    assert set(Lead.objects.filter(pk__in=[one.pk, two.pk]).values_list("assignee_id", flat=True)) == {anna.pk}
    # and one goes back to the queue; a person from elsewhere is refused; nothing ticked is refused
    client.post("/leads/reassign/", {"lead": [one.pk], "assignee": "none"})
    assert Lead.objects.get(pk=one.pk).assignee_id is None
    client.post("/leads/reassign/", {"lead": [two.pk], "assignee": other.pk})
    assert Lead.objects.get(pk=two.pk).assignee_id == anna.pk
    r = client.post("/leads/reassign/", {"assignee": boris.pk}, follow=True)
    assert "Отметьте лиды, которые нужно передать." in r.content.decode()  # the user reads Russian
    # and a manager may not
    assert logged_in(anna).post("/leads/reassign/", {"lead": [two.pk], "assignee": anna.pk}).status_code == 403


def test_convert_from_the_row_makes_the_deal_and_opens_it(db):
    manager = UserFactory()
    row = lead(assignee=manager, title="Диван")
    pipeline = PipelineFactory(name="Заказы")
    client = logged_in(manager)
    page = client.get("/leads/").content.decode()
    assert f'action="/leads/{row.pk}/convert/"' in page and "Заказы" in page
    r = client.post(f"/leads/{row.pk}/convert/", {"pipeline": pipeline.pk, "next": "/leads/"})
    deal = Deal.objects.get(lead=row)
    assert r.status_code == 302 and r["Location"] == f"/deals/{deal.pk}/"
    assert deal.pipeline == pipeline and deal.stage == stage_of(pipeline) and deal.title == "Диван"
    assert Lead.objects.get(pk=row.pk).status == Lead.Status.CONVERTED
    # converting again is refused with a message, not a 500
    r = client.post(f"/leads/{row.pk}/convert/", {"pipeline": pipeline.pk, "next": "/leads/"}, follow=True)
    assert "Лид не преобразован" in r.content.decode() and Deal.objects.filter(lead=row).count() == 1


def test_convert_needs_a_pipeline_the_user_may_use_and_a_lead_they_may_see(db):
    manager = UserFactory()
    row = lead(assignee=manager)
    foreign_pipeline = PipelineFactory(department=DepartmentFactory())
    client = logged_in(manager)
    r = client.post(f"/leads/{row.pk}/convert/", {"pipeline": foreign_pipeline.pk}, follow=True)
    assert "Выберите воронку." in r.content.decode() and not Deal.objects.exists()
    stranger = UserFactory()
    assert logged_in(stranger).post(f"/leads/{row.pk}/convert/", {"pipeline": PipelineFactory().pk}).status_code == 404


def test_close_as_lost_with_a_reason_from_the_list(db):
    manager = UserFactory()
    row = lead(assignee=manager)
    reason = LostReasonFactory(name="Дорого")
    client = logged_in(manager)
    r = client.post(f"/leads/{row.pk}/lose/", {"reason": "", "next": "/leads/"}, follow=True)
    assert "Лид не закрыт" in r.content.decode()
    assert Lead.objects.get(pk=row.pk).status == Lead.Status.NEW
    r = client.post(f"/leads/{row.pk}/lose/", {"reason": reason.pk, "next": "/leads/"})
    assert r["Location"] == "/leads/"
    row.refresh_from_db()
    assert row.status == Lead.Status.LOST and row.lost_reason == reason


def test_the_card_loads_its_open_leads_with_convert_and_lose(db):
    manager = UserFactory()
    row = lead(assignee=manager, title="Открытый")
    lead(assignee=manager, title="Закрытый", status=Lead.Status.LOST)
    PipelineFactory(name="Заказы"), LostReasonFactory(name="Дорого")
    client = logged_in(manager)
    card = client.get(f"/contacts/{row.contact_id}/").content.decode()
    assert f'hx-get="/leads/for-contact/{row.contact_id}/"' in card
    panel = client.get(f"/leads/for-contact/{row.contact_id}/").content.decode()
    assert "Открытый" in panel and f'action="/leads/{row.pk}/convert/"' in panel and "Дорого" in panel
    assert f'name="next" value="/contacts/{row.contact_id}/"' in panel
    # someone who cannot see the card gets an empty panel
    assert "Открытый" not in logged_in(UserFactory()).get(f"/leads/for-contact/{row.contact_id}/").content.decode()


def test_all_leads_page_costs_the_same_queries_for_more_people_and_leads(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sales = DepartmentFactory()
    admin = UserFactory(role=User.Role.ADMIN)
    client = logged_in(admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/leads/all/").status_code == 200
        return len(captured)

    lead(assignee=UserFactory(department=sales))
    before = queries()
    for _ in range(5):
        lead(assignee=UserFactory(department=sales), channel=make_channel())
    assert queries() == before
