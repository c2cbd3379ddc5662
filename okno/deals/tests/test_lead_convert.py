import pytest
from django.core.exceptions import PermissionDenied

from okno.contacts.tests.factories import make_contact
from okno.core import events
from okno.core.errors import FieldError
from okno.deals.lead_services import lead_convert, lead_lose, lead_reassign, lost_reason_create
from okno.deals.models import Lead
from okno.deals.services import lead_create
from okno.deals.tests.factories import LostReasonFactory, PipelineFactory, stage_of
from okno.inbox.tests.factories import make_channel
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture
def heard():
    seen = []
    events.subscribe("*", seen.append, key="tests.leads.heard")
    yield seen
    events._subscribers["*"] = [(k, fn) for k, fn in events._subscribers["*"] if k != "tests.leads.heard"]


def new_lead(assignee=None, **fields) -> Lead:
    channel = make_channel(fallback_user=assignee)
    contact = make_contact(first_name="Ольга", last_name="Смирнова", company="ООО Ромашка")
    return lead_create(contact=contact, channel=channel, source=channel.name, title=fields.get("title", "Нужен счёт"),
                       utm={"utm_source": "yandex"})


def test_creating_a_lead_publishes_lead_created(db, heard):
    lead = new_lead(UserFactory())
    created = [e for e in heard if e.name == "lead.created"]
    assert len(created) == 1 and created[0].data["lead_id"] == lead.pk
    assert created[0].data["assignee_id"] == lead.assignee_id


def test_batch_inserted_leads_are_published_too(db, heard):
    lead = new_lead(UserFactory())
    heard.clear()
    from okno.deals.services import leads_created_publish

    leads_created_publish(leads=Lead.objects.filter(pk=lead.pk))
    assert [(e.name, e.data["lead_id"]) for e in heard] == [("lead.created", lead.pk)]


def test_convert_carries_the_lead_over_and_closes_it(db, heard):
    # given
    manager = UserFactory()
    lead = new_lead(manager)
    pipeline = PipelineFactory()
    # when
    deal = lead_convert(actor=manager, lead=lead, pipeline=pipeline, data={"amount": "2500"})
    # then
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and lead.closed_at is not None
    assert deal.lead == lead and deal.contact == lead.contact and deal.company == lead.contact.company
    assert deal.source == lead.source and deal.utm == {"utm_source": "yandex"}
    assert deal.conversation_id == lead.conversation_id and deal.title == "Нужен счёт"
    assert deal.responsible == manager and deal.stage == stage_of(pipeline) and str(deal.amount) == "2500.00"
    names = [e.name for e in heard]
    assert "deal.created" in names and "lead.converted" in names


def test_a_closed_lead_is_not_converted_twice(db):
    manager = UserFactory()
    lead = new_lead(manager)
    pipeline = PipelineFactory()
    lead_convert(actor=manager, lead=lead, pipeline=pipeline)
    with pytest.raises(FieldError) as exc:
        lead_convert(actor=manager, lead=Lead.objects.get(pk=lead.pk), pipeline=pipeline)
    assert "lead" in exc.value.by_field
    assert lead.deals.count() == 1


def test_lose_takes_a_reason_from_the_list_by_name_or_id(db):
    manager = UserFactory()
    reason = LostReasonFactory(name="Дорого")
    lost = lead_lose(actor=manager, lead=new_lead(manager), reason="Дорого")
    assert lost.status == Lead.Status.LOST and lost.lost_reason == reason and lost.closed_at is not None
    assert "Дорого" in lost.contact.activities.get(kind="system").summary
    assert lead_lose(actor=manager, lead=new_lead(manager), reason=reason.pk).lost_reason == reason
    with pytest.raises(FieldError) as exc:
        lead_lose(actor=manager, lead=new_lead(manager), reason="Просто так")
    assert exc.value.by_field == {"reason": "no such reason"}


def test_reassign_is_for_heads_within_their_subtree(db):
    # given
    sales = DepartmentFactory()
    head = UserFactory(role=User.Role.HEAD, department=sales)
    member, stranger = UserFactory(department=sales), UserFactory()
    mine = [new_lead(member), new_lead(member)]
    theirs = new_lead(stranger)
    # when
    changed = lead_reassign(actor=head, leads=[lead.pk for lead in mine + [theirs]], assignee=head)
    # then: the other department's lead is out of reach
    assert changed == 2
    assert set(Lead.objects.filter(assignee=head).values_list("pk", flat=True)) == {lead.pk for lead in mine}
    with pytest.raises(FieldError):
        lead_reassign(actor=head, leads=[mine[0].pk], assignee=stranger)
    with pytest.raises(PermissionDenied):
        lead_reassign(actor=member, leads=[mine[0].pk], assignee=member)


def test_lost_reasons_are_an_administrators_list(db, admin_user):
    reason = lost_reason_create(actor=admin_user, name="Купил у конкурента")
    assert reason.is_active
    with pytest.raises(FieldError):
        lost_reason_create(actor=admin_user, name="купил у конкурента")
    with pytest.raises(PermissionDenied):
        lost_reason_create(actor=UserFactory(), name="Другое")
