"""A call through an extension nobody has is kept without an employee and listed for the
administrator, who says who it is; the calls already kept then get the employee too."""

from okno.inbox.drain import inbound_drain
from okno.people.tests.factories import UserFactory
from okno.telephony.models import Call
from okno.telephony.tests.test_mango import call_event, ivr_then_answered, mango, post, sales  # noqa: F401


def test_admin_assigns_an_unmatched_extension_and_the_kept_calls_follow(mango, sales, client):  # noqa: F811
    # given an answered call through extension 101, which nobody has
    for event in ivr_then_answered():
        post(client, mango, "events/call", event)
    inbound_drain()
    call = Call.objects.get()
    assert call.employee is None and call.unmatched_extension == "101"
    # when the administrator opens the list
    admin = UserFactory(role="admin", department=sales)
    client.force_login(admin)
    page = client.get("/telephony/unmatched/")
    assert page.status_code == 200 and "101" in page.content.decode() and "Mango" in page.content.decode()
    # and says it is a manager of sales
    manager = UserFactory(department=sales)
    r = client.post("/telephony/unmatched/", {"channel": mango.pk, "code": "101", "user": manager.pk})
    assert r.status_code == 302
    # then the kept call and its leg have the employee, and the list is empty
    call.refresh_from_db()
    assert (call.employee, call.unmatched_extension, call.department) == (manager, "", sales)
    assert call.legs.get(leg_id="c2").employee == manager
    assert "101" not in client.get("/telephony/unmatched/").content.decode().split("<tbody>")[1]
    # and the next call through 101 is the manager's at once
    post(client, mango, "events/call", {**call_event(1, "Appeared", "abonent", at=500, frm={"number": "79161234567"},
                                                     to={"extension": "101"}), "entry_id": "next"})
    inbound_drain()
    assert Call.objects.get(pbx_call_id="next").employee == manager


def test_managers_may_not_see_the_list(sales, client):  # noqa: F811
    client.force_login(UserFactory(department=sales))
    assert client.get("/telephony/unmatched/").status_code == 403
    assert client.post("/telephony/unmatched/", {}).status_code == 403
