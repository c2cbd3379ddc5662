# ruff: noqa: F811 - the fixtures imported from test_mango are, as pytest wants, test arguments
"""Screen pop: a ringing extension pushes the caller's card to its employee's open tabs."""

from okno.contacts.tests.factories import make_contact
from okno.inbox.drain import inbound_drain
from okno.people.models import Department
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.push.models import Push
from okno.telephony.models import PbxExtension
from okno.telephony.tests.test_mango import CUSTOMER, LINE, call_event, mango, post, sales  # noqa: F401

TO_101 = {"extension": "101", "number": "74951234567", **LINE}
TO_102 = {"extension": "102", "number": "74951234567", **LINE}


def ring(client, channel, *, leg="c2", to=TO_101, at=10, seq=3):
    post(client, channel, "events/call", call_event(seq, "Appeared", "abonent", at=at, frm=CUSTOMER, to=to, leg=leg))


def test_ringing_pops_the_known_callers_card_once(mango, sales, client):
    # given a customer whose card the ringing manager may see
    manager = UserFactory(department=sales, first_name="Анна", last_name="Котова")
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    card = make_contact(actor=manager, first_name="Иван", last_name="Петров", phones=["+7 495 540-44-44"])
    # when the PBX rings extension 101, and says so twice, then it is answered
    ring(client, mango)
    ring(client, mango)
    post(client, mango, "events/call", call_event(4, "Connected", "abonent", at=15, frm=CUSTOMER, to=TO_101, leg="c2"))
    inbound_drain()
    # then one pop for that manager, naming the card and where to open it
    pop = Push.objects.get(kind="screen_pop")
    assert (pop.user_id, pop.kind) == (manager.pk, "screen_pop")
    assert pop.payload["contact"] == {"id": card.pk, "name": "Петров Иван", "url": f"/contacts/{card.pk}/",
                                      "responsible": manager.display_name}
    assert pop.payload["new_customer"] is False and pop.payload["number"].startswith("+7 495 540")


def test_unknown_number_pops_as_a_new_customer(mango, sales, client):
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    ring(client, mango)
    inbound_drain()
    pop = Push.objects.get(kind="screen_pop", user=manager)
    assert pop.payload["new_customer"] is True and pop.payload["contact"]["id"]


def test_card_the_employee_may_not_see_pops_as_the_bare_number(mango, sales, client):
    # given the caller's card belongs to another department that does not share its cards
    other = DepartmentFactory(name="Опт", share_contacts=False)
    owner = UserFactory(department=other)
    make_contact(actor=owner, last_name="Секретов", phones=["+74955404444"])
    Department.objects.filter(pk=other.pk).update(share_contacts=False)
    stranger = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=stranger)
    ring(client, mango)
    inbound_drain()
    payload = Push.objects.get(kind="screen_pop", user=stranger).payload
    assert payload["contact"] is None and payload["number"]
    assert "Секретов" not in str(payload)


def test_a_transfer_pops_for_the_second_employee_too(mango, sales, client):
    first, second = UserFactory(department=sales), UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=first)
    PbxExtension.objects.create(channel=mango, code="102", user=second)
    ring(client, mango)
    post(client, mango, "events/call", call_event(4, "Disconnected", "abonent", at=20, frm=CUSTOMER, to=TO_101,
                                                  leg="c2"))
    ring(client, mango, leg="c3", to=TO_102, at=21, seq=5)
    inbound_drain()
    popped = Push.objects.filter(kind="screen_pop").values_list("user_id", flat=True)
    assert sorted(popped) == sorted([first.pk, second.pk])


def test_a_ring_that_arrives_after_its_leg_ended_pops_nothing(mango, sales, client):
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    post(client, mango, "events/call", call_event(4, "Disconnected", "abonent", at=20, frm=CUSTOMER, to=TO_101,
                                                  leg="c2"))
    inbound_drain()
    ring(client, mango)
    inbound_drain()
    assert not Push.objects.filter(kind="screen_pop").exists()


def test_unknown_extension_pops_nothing(mango, client):
    ring(client, mango)
    inbound_drain()
    assert not Push.objects.filter(kind="screen_pop").exists()


def test_each_change_of_a_call_with_a_card_tells_its_employee(mango, sales, client):
    # given a manager who placed a call to a customer (the card is open on their screen)
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    card = make_contact(actor=manager, last_name="Петров", phones=["+7 495 540-44-44"])
    out = {"extension": "101"}, {"number": "74955404444"}
    # when the PBX reports the call starting, answered and ended
    for seq, state in ((1, "Appeared"), (2, "Connected"), (3, "Disconnected")):
        post(client, mango, "events/call", call_event(seq, state, "abonent", at=seq, frm=out[0], to=out[1]))
    inbound_drain()
    # then the manager's pages heard of each state, the last one answered, for that card
    pushes = list(Push.objects.filter(kind="call", user=manager).order_by("pk"))
    assert len(pushes) == 3 and {p.payload["contact_id"] for p in pushes} == {card.pk}
    assert pushes[-1].payload["outcome"] == "answered"
