"""Paging and id parameters out of bounds are a 4xx naming the field, never a 500 (issue 13).

The sweep reads every GET route of the API from its OpenAPI schema, so a list added later
without the bounds of okno/core/paging.py fails here."""

import re

import pytest

from okno.api import api as ninja_api
from okno.contacts.tests.factories import make_contact
from okno.core.paging import MAX_OFFSET

HUGE = "99999999999999999999"  # past 2**64: fits neither database's integers


def _integer_query_params():
    for path, operations in ninja_api.get_openapi_schema()["paths"].items():
        op = operations.get("get")
        for param in (op or {}).get("parameters", []):
            schema = param.get("schema", {})
            types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
            if param["in"] == "query" and "integer" in types:
                yield re.sub(r"\{[^}]+\}", "1", path), param["name"]


ROUTES = sorted(set(_integer_query_params()))


def test_the_sweep_sees_the_lists():
    names = {f"{path}?{name}" for path, name in ROUTES}
    assert {"/api/v1/contacts?offset", "/api/v1/companies?offset", "/api/v1/deals?offset",
            "/api/v1/leads?offset", "/api/v1/calls?limit", "/api/v1/work-items?limit"} <= names


@pytest.mark.parametrize(("path", "name"), ROUTES, ids=[f"{p}?{n}" for p, n in ROUTES])
@pytest.mark.parametrize("value", [HUGE, f"-{HUGE}"], ids=["huge", "negative-huge"])
def test_an_integer_out_of_bounds_is_a_4xx_on_every_api_get(api, path, name, value):
    # given an administrator's API client
    api.client.raise_request_exception = False
    # when a GET carries the out-of-range integer
    response = api.get(path, **{name: value})
    # then the answer is a client error, and a 422 names the field
    assert 400 <= response.status_code < 500, (path, name, response.status_code)
    if response.status_code == 422:
        assert name in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("path", ["/api/v1/contacts", "/api/v1/companies", "/api/v1/deals", "/api/v1/leads"])
def test_offset_past_the_bound_is_422_naming_offset_and_the_bound(api, path):
    # when the offset is one past the bound
    response = api.get(path, offset=str(MAX_OFFSET + 1))
    # then 422 says which field and why
    assert response.status_code == 422
    reason = f"Input should be less than or equal to {MAX_OFFSET}"
    assert response.json()["errors"] == [{"field": "offset", "reason": reason}]


def test_offset_at_the_bound_is_an_empty_page(api, admin_user):
    # given one card
    make_contact(actor=admin_user, phones=["+79161234567"])
    # when the list is read at the largest offset allowed
    response = api.get("/api/v1/contacts", offset=str(MAX_OFFSET))
    # then the page is empty, not an error
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("path", ["/api/v1/contacts", "/api/v1/companies", "/api/v1/deals"])
def test_limit_zero_and_too_large_are_422_naming_limit(api, path):
    for value in ("0", "100000"):
        response = api.get(path, limit=value)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["limit"]


@pytest.mark.parametrize("path", ["/contacts/", "/contacts/companies/", "/contacts/duplicates/", "/deals/",
                                  "/leads/", "/leads/all/", "/inbox/problems/", "/outbox/problems/",
                                  "/robots/problems/"])
def test_a_ui_page_number_out_of_range_shows_a_page(client, admin_user, path):
    # given an administrator in the browser
    client.force_login(admin_user)
    # when a list page is asked for a page far past the end, or below the first
    for page in (HUGE, f"-{HUGE}", "1e400", "x"):
        response = client.get(path, {"page": page})
        # then it answers a page (the last or the first), not an error
        assert response.status_code == 200, (path, page, response.status_code)


def _get_paths_with_ids():
    for path, operations in ninja_api.get_openapi_schema()["paths"].items():
        if "get" in operations and re.search(r"\{\w+_id\}", path):
            yield path


ID_PATHS = sorted(_get_paths_with_ids())


@pytest.mark.parametrize("path", ID_PATHS)
def test_an_id_out_of_range_in_the_path_is_a_4xx(api, path):
    # given an administrator's API client
    api.client.raise_request_exception = False
    # when every id in the path is past 2**64
    response = api.get(re.sub(r"\{[^}]+\}", HUGE, path))
    # then it is not a server error (a missing row: 404)
    assert 400 <= response.status_code < 500, (path, response.status_code)


UI_IDS = [
    ("get", "/contacts/", {"responsible": HUGE}),
    ("get", "/deals/", {"responsible": HUGE, "stage": HUGE, "pipeline": HUGE, "contact": HUGE}),
    ("post", "/contacts/duplicates/dismiss/", {"ids": HUGE}),
    ("post", "/leads/reassign/", {"lead": HUGE, "assignee": "none"}),
    ("post", "/inbox/problems/retry/", {"event": HUGE}),
    ("post", "/outbox/problems/retry/", {"message": HUGE}),
    ("post", "/robots/problems/retry/", {"run": HUGE}),
]


@pytest.mark.parametrize(("method", "path", "data"), UI_IDS, ids=[f"{m} {p}" for m, p, _ in UI_IDS])
def test_a_ui_id_past_64_bits_is_ignored_not_a_500(client, admin_user, method, path, data):
    # given an administrator in the browser
    client.force_login(admin_user)
    client.raise_request_exception = False
    # when a filter or a ticked row carries an id no database can hold
    response = getattr(client, method)(path, data)
    # then the page answers as for an unknown id (SQLite could not bind it: 500)
    assert response.status_code in (200, 302), (path, response.status_code)


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), (" 7 ", 7), ("0", None), ("-3", None), ("", None),
                                               (None, None), ("1e3", None), ("٣", None), (HUGE, None),
                                               (str(2**63 - 1), 2**63 - 1), (str(2**63), None)])
def test_id_or_none(raw, expected):
    from okno.core.paging import id_or_none

    assert id_or_none(raw) == expected
