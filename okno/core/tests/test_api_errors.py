"""Under /api/ every error is JSON in the one shape of ErrorOut, whatever failed and where."""

import json
import logging

import pytest

from okno.core.errors import ErrorOut

pytestmark = pytest.mark.django_db


def _error(r, status: int) -> dict:
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
    body = r.json()
    ErrorOut.model_validate(body)
    return body


@pytest.mark.parametrize("path", ["/api/nope", "/api/v1/no-such-thing/1", "/api/v1/contacts/abc", "/api/v1/channels/",
                                  "/api/"])
def test_a_path_no_route_matches_is_a_json_404(api, path):
    # when a client asks for a path under /api/ that no endpoint serves
    r = api.get(path)

    # then it is told so in JSON, not by the site's HTML page
    assert _error(r, 404)["detail"] in ("No such endpoint", "Not found")


def test_an_unknown_path_is_a_json_404_for_any_method_and_without_a_caller(client):
    r = client.post("/api/v1/nope", data="{}", content_type="application/json")
    assert _error(r, 404)["detail"] == "No such endpoint"


def test_a_missing_row_is_a_json_404(api):
    assert _error(api.get("/api/v1/contacts/999999"), 404)["detail"] == "Not found"


def test_a_method_the_path_does_not_take_is_a_json_405_naming_the_allowed_ones(api):
    # when a client deletes a collection that can only be listed and added to
    r = api.delete("/api/v1/channels")

    # then 405 in JSON, and Allow names the methods as HTTP says
    body = _error(r, 405)
    assert set(r["Allow"].split(", ")) == {"GET", "POST"}
    assert "DELETE" in body["detail"]


def test_no_caller_is_a_json_401(client):
    assert _error(client.get("/api/v1/contacts"), 401)["detail"] == "Unauthorized"


def test_a_malformed_value_is_a_json_422_naming_the_field(api):
    body = _error(api.get("/api/v1/inbound-events", limit="many"), 422)
    assert [e["field"] for e in body["errors"]] == ["limit"]


def test_a_body_over_the_upload_limit_is_a_json_413(api, settings):
    # given a limit of 1 KB on a request's body
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    # when a client posts 2 KB
    r = api.client.post("/api/v1/channels", data=json.dumps({"kind": "form", "name": "x" * 2048}),
                        content_type="application/json", headers=api.headers)

    # then 413 in JSON, and nothing was made
    _error(r, 413)
    from okno.inbox.models import Channel
    assert not Channel.objects.exists()


def test_a_server_error_is_a_json_500_without_the_traceback_and_is_logged(api, monkeypatch, caplog):
    # given an endpoint whose code fails
    def broken(channel):
        raise RuntimeError("secret internals: /srv/okno/db password=hunter2")

    import okno.inbox.api
    from okno.inbox.tests.factories import make_channel

    make_channel()
    monkeypatch.setattr(okno.inbox.api, "_channel_out", broken)
    api.client.raise_request_exception = False

    # when a client calls it
    with caplog.at_level(logging.ERROR, logger="django.request"):
        r = api.get("/api/v1/channels")

    # then the client gets a JSON 500 that tells nothing of the code
    body = _error(r, 500)
    assert body == {"detail": "Internal server error"}
    assert b"hunter2" not in r.content and b"Traceback" not in r.content
    # and the operator finds the traceback in the log, as for any server error
    record = next(r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR)
    assert record.exc_info and "hunter2" in str(record.exc_info[1])


def test_a_server_error_outside_an_endpoint_is_a_json_500(client, monkeypatch):
    # given the schema's own view failing
    from okno.api import api as okno_api

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(okno_api, "get_openapi_schema", broken)
    client.raise_request_exception = False

    # then the failure is JSON too
    assert _error(client.get("/api/openapi.json"), 500) == {"detail": "Internal server error"}


def test_a_server_error_still_reaches_the_test_client(api, monkeypatch):
    """Django's got_request_exception is sent as for any view: tests see the exception itself,
    error trackers hooked to the signal still hear of it."""
    import okno.inbox.api
    from okno.inbox.tests.factories import make_channel

    make_channel()
    monkeypatch.setattr(okno.inbox.api, "_channel_out", lambda c: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        api.get("/api/v1/channels")


@pytest.mark.parametrize("method, path, body, field", [
    ("post", "/api/v1/leads/reassign", {"lead_ids": [1, 10**30]}, "lead_ids.1"),
    ("post", "/api/v1/contacts/merge", {"keep_id": 1, "merge_ids": [-(10**20)]}, "merge_ids.0"),
    ("get", "/api/v1/contacts/99999999999999999999999", None, "contact_id"),
])
def test_a_number_no_column_holds_is_a_422_naming_the_field_on_either_database(api, method, path, body, field):
    # when a client sends an id wider than 64 bits (SQLite raised OverflowError: a 500)
    r = api.post(path, body) if method == "post" else api.get(path)

    # then it is told which field and why
    assert _error(r, 422)["errors"] == [
        {"field": field, "reason": "must be between -9223372036854775808 and 9223372036854775807"}]


def test_a_time_zone_no_database_stores_is_a_422_naming_the_field(api):
    # PostgreSQL refuses offsets past 15:59 (a 500 before); Python and pydantic take up to 23:59
    r = api.get("/api/v1/leads", created_from="2026-06-04T07:54:50-22:45")
    assert _error(r, 422)["errors"] == [
        {"field": "created_from", "reason": "the time zone offset must be between -15:59 and +15:59"}]
    assert api.get("/api/v1/leads", created_from="2026-06-04T07:54:50+14:00").status_code == 200


def test_a_negative_position_is_a_422_naming_the_field_not_the_databases_500(api):
    # a lost reason's position is a PositiveIntegerField: PostgreSQL's check refused -1 (a 500)
    for position in (-1, 2**31):
        r = api.post("/api/v1/lost-reasons", {"name": "Дорого", "position": position})
        assert [e["field"] for e in _error(r, 422)["errors"]] == ["position"]
    assert api.post("/api/v1/lost-reasons", {"name": "Дорого", "position": 3}).status_code == 201


def test_a_value_the_database_refuses_is_a_422_and_logged_as_an_error(api, monkeypatch, caplog):
    # given an endpoint whose write the database refuses, with no check of its own before it
    from django.db import IntegrityError

    import okno.inbox.api
    from okno.inbox.tests.factories import make_channel

    def refused(channel):
        raise IntegrityError("CHECK constraint failed: position")

    make_channel()
    monkeypatch.setattr(okno.inbox.api, "_channel_out", refused)

    # when a client calls it
    with caplog.at_level(logging.ERROR, logger="django.request"):
        r = api.get("/api/v1/channels")

    # then the client is told its input was refused, and the operator finds the missing check in the log
    assert _error(r, 422)["detail"] == "Invalid input"
    assert any(rec.exc_info and isinstance(rec.exc_info[1], IntegrityError) for rec in caplog.records)
