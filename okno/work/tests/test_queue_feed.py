"""A lead nobody could be routed to waits in its department's queue as a new_lead item."""

from okno.contacts.tests.factories import make_contact
from okno.deals.services import lead_create, leads_created_publish
from okno.inbox.models import Conversation
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import WorkItem


def test_an_unrouted_lead_becomes_a_new_lead_item_of_the_departments_queue_once(db):
    # given: a channel of a department with nobody at work and no fallback
    sales = DepartmentFactory(name="Продажи")
    channel = make_channel(department=sales)
    contact = make_contact(first_name="Ольга")
    conversation = Conversation.objects.create(channel=channel, contact=contact, kind="form", external_id="f1")
    # when a lead comes in, and a batch path publishes it again
    lead = lead_create(contact=contact, channel=channel, conversation=conversation, title="Хочу кухню")
    leads_created_publish(leads=[lead])
    # then one unassigned item in the department's queue, pointing at the lead
    item = WorkItem.objects.get(lead=lead)
    assert (item.kind, item.department_id, item.assignee_id, item.title) == ("new_lead", sales.pk, None, "Хочу кухню")


def test_a_routed_lead_makes_no_item(db):
    # given: the customer has a responsible manager
    manager = UserFactory(department=DepartmentFactory())
    lead = lead_create(contact=make_contact(first_name="Ольга", actor=manager, responsible=manager))
    # then
    assert lead.assignee_id == manager.pk
    assert not WorkItem.objects.filter(lead=lead).exists()


def test_a_calls_lead_makes_no_item_its_callback_covers_it(db):
    # given: a line's lead with nobody to route to, and no conversation (a call)
    channel = make_channel(kind="mango", department=DepartmentFactory())
    lead = lead_create(contact=make_contact(first_name="Ольга"), channel=channel)
    # then
    assert lead.assignee_id is None and not WorkItem.objects.filter(lead=lead).exists()
