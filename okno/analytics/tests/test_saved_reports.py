"""Saved reports: a user keeps a report's parameters under a name and reopens them."""

import pytest
from django.test import Client

from okno.analytics.models_boards import SavedReport
from okno.analytics.saved import saved_report_save
from okno.core.errors import FieldError
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

QUERY = "from=2026-11-01&to=2026-11-30&group_by=day&compare=previous&unit=h"


@pytest.fixture
def people(db):
    sales = DepartmentFactory(name="Продажи")
    return {"head": UserFactory(role=User.Role.HEAD, department=sales), "anna": UserFactory(department=sales)}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_report_saved_from_the_page_reopens_with_its_parameters(people):
    client = signed_in(people["anna"])
    # when Anna saves the report on her screen (the page's link carries its query)
    form = client.get("/reports/saved/", {"kind": "calls", "query": QUERY})
    assert form.status_code == 200 and form.context["form"].initial["query"] == QUERY
    response = client.post("/reports/saved/", {"name": "Ноябрь по дням", "kind": "calls",
                                               "query": QUERY + "&format=xlsx"})
    # then it is kept (an export's format dropped), and she lands on the report
    saved = SavedReport.objects.get()
    assert (saved.user, saved.name, saved.kind, saved.query, saved.weekly_digest) == (
        people["anna"], "Ноябрь по дням", "calls", QUERY, False)
    assert response.status_code == 302 and response.url == f"/reports/calls/?{QUERY}"
    # and the list reopens it
    assert "Ноябрь по дням" in client.get("/reports/saved/").content.decode()
    assert client.get(f"/reports/saved/{saved.pk}/").url == f"/reports/calls/?{QUERY}"


def test_a_saved_report_is_its_owners_only(people):
    saved = saved_report_save(user=people["anna"], name="Мой", kind="calls", query=QUERY)
    other = signed_in(people["head"])
    assert other.get(f"/reports/saved/{saved.pk}/").status_code == 404
    assert other.post(f"/reports/saved/{saved.pk}/remove").status_code == 404
    assert SavedReport.objects.filter(pk=saved.pk).exists()
    assert signed_in(people["anna"]).post(f"/reports/saved/{saved.pk}/remove").status_code == 302
    assert not SavedReport.objects.exists()


def test_parameters_the_report_refuses_are_refused_naming_the_field(people):
    with pytest.raises(FieldError) as bad:
        saved_report_save(user=people["anna"], name="x", kind="calls", query="from=2026-11-30&to=2026-11-01")
    assert bad.value.by_field == {"query": "from: must not be after to"}
    with pytest.raises(FieldError) as bad:
        saved_report_save(user=people["anna"], name="", kind="sales", query="")
    assert bad.value.by_field == {"name": "required", "kind": "must be one of calls, chats, process"}
    response = signed_in(people["anna"]).post("/reports/saved/", {"name": "x", "kind": "calls",
                                                                  "query": "from=2026-11-01&to=2026-11-30&groupby=x"})
    assert response.status_code == 400 and not SavedReport.objects.exists()


def test_a_name_is_used_once_per_user(people):
    saved_report_save(user=people["anna"], name="Мой", kind="calls", query=QUERY)
    with pytest.raises(FieldError) as twice:
        saved_report_save(user=people["anna"], name="Мой", kind="calls", query="")
    assert twice.value.by_field == {"name": "you have a saved report of this name"}
    saved_report_save(user=people["head"], name="Мой", kind="calls", query="")  # another user's: fine
    assert SavedReport.objects.count() == 2


def test_only_heads_and_administrators_may_switch_the_digest_on(people):
    with pytest.raises(FieldError) as refused:
        saved_report_save(user=people["anna"], name="Мой", kind="calls", query=QUERY, weekly_digest=True)
    assert refused.value.by_field == {"weekly_digest": "only heads of departments and administrators get the digest"}
    saved = saved_report_save(user=people["head"], name="Отдел", kind="calls", query=QUERY)
    signed_in(people["head"]).post(f"/reports/saved/{saved.pk}/digest", {"weekly_digest": "on"})
    saved.refresh_from_db()
    assert saved.weekly_digest and saved.digest_sent_for is not None  # the first goes out next Monday
