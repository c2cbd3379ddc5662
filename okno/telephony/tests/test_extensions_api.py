"""/api/v1/channels/{id}/extensions: an administrator names who is behind an extension of a PBX
channel (the calls already kept follow, as on the Unmatched extensions page), lists and removes
them; bad input is a 4xx naming the field."""

import pytest

from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.models import Call, PbxExtension


@pytest.fixture
def pbx(db):
    return make_channel(kind="mango", name="Mango", department=DepartmentFactory(name="Продажи"))


def url(channel) -> str:
    return f"/api/v1/channels/{channel.pk}/extensions"


def test_add_list_and_remove_an_extension(api, pbx):
    # given a call kept through extension 101, which nobody had
    call = Call.objects.create(channel=pbx, pbx_call_id="c1", unmatched_extension="101", outcome="missed")
    manager = UserFactory(department=DepartmentFactory(name="Поддержка"))
    # when an administrator says 101 is the manager
    response = api.post(url(pbx), {"code": " 101 ", "user_id": manager.pk})
    # then the extension is theirs, and the kept call too
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["user_id"], body["calls_updated"]) == ("101", manager.pk, 1)
    assert PbxExtension.objects.get(channel=pbx, code="101").user == manager
    call.refresh_from_db()
    assert (call.employee, call.unmatched_extension, call.department) == (manager, "", manager.department)
    # and the list names it
    assert [(e["code"], e["user_id"], e["user_name"]) for e in api.get(url(pbx)).json()] == [
        ("101", manager.pk, manager.display_name)]
    # when it is removed, the kept call keeps its employee
    assert api.delete(f"{url(pbx)}/101").status_code == 204
    assert not PbxExtension.objects.exists()
    call.refresh_from_db()
    assert call.employee == manager
    assert api.delete(f"{url(pbx)}/101").status_code == 404


def test_bad_input_names_the_field_and_keeps_what_was_stored(api, pbx):
    taken = UserFactory()
    PbxExtension.objects.create(channel=pbx, code="101", user=taken)
    other = UserFactory()
    gone = UserFactory(is_active=False)
    chat = make_channel(kind="form", name="Форма")
    cases = [
        (url(pbx), {"code": "101", "user_id": other.pk}, 409, "code"),  # a duplicate code
        (url(pbx), {"code": "102", "user_id": 999999}, 400, "user_id"),  # no such user
        (url(pbx), {"code": "102", "user_id": gone.pk}, 400, "user_id"),  # not active
        (url(pbx), {"code": "   ", "user_id": other.pk}, 400, "code"),
        (url(pbx), {"code": "1\x0001", "user_id": other.pk}, 400, "code"),
        (url(chat), {"code": "102", "user_id": other.pk}, 400, "channel"),  # not a telephony channel
    ]
    for path, body, status, field in cases:
        response = api.post(path, body)
        assert response.status_code == status, (body, response.content)
        assert response.json()["errors"][0]["field"] == field, (body, response.json())
    # a body that is not one: 422 naming the field
    response = api.post(url(pbx), {"code": "102"})
    assert response.status_code == 422
    assert "user_id" in response.content.decode()
    # and nothing stored changed
    assert list(PbxExtension.objects.values_list("code", "user_id")) == [("101", taken.pk)]
    assert api.post("/api/v1/channels/999999/extensions", {"code": "1", "user_id": other.pk}).status_code == 404
    assert api.get(url(chat)).status_code == 400


def test_only_an_administrator_manages_extensions(api_as, pbx):
    manager = UserFactory()
    assert api_as(manager).post(url(pbx), {"code": "101", "user_id": manager.pk}).status_code == 403
    assert api_as(manager).get(url(pbx)).status_code == 403
    assert api_as(manager).delete(f"{url(pbx)}/101").status_code == 403
    assert not PbxExtension.objects.exists()
