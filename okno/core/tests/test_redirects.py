"""Every `next` a view takes sends the browser to a page of this site, never another (issue 13).

`next=//evil.example/phish` on the lead's "read" action redirected off-site. Each endpoint
that redirects to a `next` is tried with the tricks browsers read as another host or as code."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from okno.contacts.tests.factories import make_contact
from okno.deals.services import lead_create
from okno.deals.tests.factories import PipelineFactory, make_deal, stage_of
from okno.inbox.tests.factories import make_channel

HOSTILE = [
    "//evil.example/x",
    "https://evil.example",
    "http://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "https:evil.example",
    " //evil.example",
]


def _lead(user):
    return lead_create(contact=make_contact(first_name="Ольга", last_name="Смирнова"),
                       channel=make_channel(fallback_user=user), title="Нужен счёт")


def _deal(user):
    pipeline = PipelineFactory()
    deal = make_deal(actor=user, pipeline=pipeline, title="Заказ")
    return f"/deals/{deal.pk}/move/", {"stage": stage_of(pipeline, nth=1).pk}


ENDPOINTS = {
    "lead read": lambda user: (f"/leads/{_lead(user).pk}/read/", {}),
    "lead lose": lambda user: (f"/leads/{_lead(user).pk}/lose/", {"reason": ""}),
    "lead convert": lambda user: (f"/leads/{_lead(user).pk}/convert/", {"pipeline": ""}),
    "leads reassign": lambda user: ("/leads/reassign/", {}),
    "deal move": _deal,
    "inbox problems retry": lambda user: ("/inbox/problems/retry/", {}),
    "outbox problems retry": lambda user: ("/outbox/problems/retry/", {}),
    "language": lambda user: ("/people/language/", {"language": "en"}),
    "presence": lambda user: ("/people/presence/", {"at_work": "1"}),
}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_next_lands_on_a_local_page(admin_user, endpoint, hostile):
    # given an administrator and what the endpoint acts on
    client = Client()
    client.force_login(admin_user)
    url, data = ENDPOINTS[endpoint](admin_user)
    # when the form carries a next pointing elsewhere
    response = client.post(url, {**data, "next": hostile})
    # then it redirects to a path of this site
    assert response.status_code == 302, (endpoint, response.status_code)
    location = response["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/"), (endpoint, location)
    assert not location.startswith(("//", "/\\")) and "evil.example" not in location


@pytest.mark.parametrize("endpoint", ["lead read", "lead lose", "leads reassign"])
def test_a_local_next_is_kept(admin_user, endpoint):
    # given an administrator
    client = Client()
    client.force_login(admin_user)
    url, data = ENDPOINTS[endpoint](admin_user)
    # when the form carries a page of this site
    response = client.post(url, {**data, "next": "/leads/all/?status=open"})
    # then the browser goes back there
    assert response.status_code == 302
    assert response["Location"] == "/leads/all/?status=open"
