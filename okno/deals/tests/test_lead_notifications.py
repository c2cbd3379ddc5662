from datetime import timedelta

from django.test import Client
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.deals.models import Lead
from okno.deals.notifications import lead_reminders
from okno.deals.services import lead_create
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import UserFactory


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_lead(assignee, *, title="Нужен счёт", minutes_ago=0) -> Lead:
    channel = make_channel(fallback_user=assignee)
    lead = lead_create(contact=make_contact(first_name="Ольга", last_name="Смирнова"), channel=channel, title=title,
                       source=channel.name)
    assert lead.assignee == assignee
    if minutes_ago:
        Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return lead


def test_fragment_counts_my_unread_leads_and_shows_the_newest(db):
    me, colleague = UserFactory(), UserFactory()
    client = logged_in(me)
    empty = client.get("/leads/notifications/").content.decode()
    assert 'data-count' not in empty and "every 5s" in empty
    new_lead(me, title="Первая", minutes_ago=10)
    newest = new_lead(me, title="Вторая")
    new_lead(colleague, title="Чужая")
    body = client.get("/leads/notifications/").content.decode()
    assert 'data-count="2"' in body and "Вторая" in body and "Чужая" not in body
    assert f"/contacts/{newest.contact_id}/" in body
    # once read, it is no longer counted
    client.post(f"/leads/{newest.pk}/read/")
    body = client.get("/leads/notifications/").content.decode()
    assert 'data-count="1"' in body and "Первая" in body


def test_my_leads_page_lists_mine_newest_first_and_take_in_work(db):
    me, colleague = UserFactory(), UserFactory()
    older, newer = new_lead(me, title="Старая", minutes_ago=30), new_lead(me, title="Новая")
    theirs = new_lead(colleague, title="Чужая")
    client = logged_in(me)
    page = client.get("/leads/").content.decode()
    assert page.index("Новая") < page.index("Старая") and "Чужая" not in page
    r = client.post(f"/leads/{older.pk}/take/")
    assert r.status_code == 302 and r["Location"] == f"/contacts/{older.contact_id}/"
    older.refresh_from_db()
    assert older.status == Lead.Status.IN_WORK and older.read_at is not None
    # another person's lead cannot be touched
    assert client.post(f"/leads/{theirs.pk}/read/").status_code == 404
    assert Lead.objects.get(pk=theirs.pk).read_at is None
    assert newer.read_at is None


def test_reminder_is_sent_once_after_the_delay_not_before(db, settings, mailoutbox):
    settings.OKNO_LEAD_REMIND_MINUTES = 15
    me = UserFactory(email="anna@example.ru")
    fresh = new_lead(me, title="Свежая", minutes_ago=5)
    # not yet: 5 minutes is under the delay
    lead_reminders()
    assert mailoutbox == []
    # after the delay: one e-mail to the assignee, with a link to the card
    Lead.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert lead_reminders() == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["anna@example.ru"] and "Свежая" in mail.subject
    assert f"/contacts/{fresh.contact_id}/" in mail.body
    # not twice
    assert lead_reminders() == 0
    assert len(mailoutbox) == 1


def test_no_reminder_for_a_read_or_unassigned_lead(db, settings, mailoutbox):
    settings.OKNO_LEAD_REMIND_MINUTES = 15
    me = UserFactory(email="anna@example.ru")
    read = new_lead(me, minutes_ago=60)
    logged_in(me).post(f"/leads/{read.pk}/read/")
    nobodys = lead_create(contact=make_contact(first_name="Пётр"), title="Ничья")
    assert nobodys.assignee is None
    Lead.objects.filter(pk=nobodys.pk).update(created_at=timezone.now() - timedelta(hours=1))
    lead_reminders()
    assert mailoutbox == []


def test_a_failed_send_is_retried_on_a_later_pass(db, settings, mailoutbox, monkeypatch):
    settings.OKNO_LEAD_REMIND_MINUTES = 15
    lead = new_lead(UserFactory(email="anna@example.ru"), minutes_ago=20)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("okno.deals.notifications.send_mail", down)
    lead_reminders()
    assert Lead.objects.get(pk=lead.pk).reminded_at is None
    monkeypatch.undo()
    lead_reminders()
    assert len(mailoutbox) == 1 and Lead.objects.get(pk=lead.pk).reminded_at is not None
