"""The OpenAPI schema and the docs page that draws it, offline."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders


def test_openapi_schema_lists_the_contact_endpoints(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/contacts" in paths
    assert "/api/v1/contacts/{contact_id}/duplicates" in paths
    assert "/api/v1/users" in paths


def test_docs_page_is_served(client):
    assert client.get("/api/docs").status_code == 200


def _docs_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_docs_page_loads_nothing_from_another_host(client):
    # given the docs page
    html = client.get("/api/docs").content.decode()

    # then every script, stylesheet and icon it names is one of Okno's own static files
    assets = _docs_assets(html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), asset
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} is not among the static files"
    assert "cdn" not in html.lower()


def test_docs_page_sends_the_schema_to_no_validator(client):
    # Swagger UI's default validator badge would send the schema's address to validator.swagger.io
    html = client.get("/api/docs").content.decode()
    swagger_settings = json.loads(re.search(r'id="swagger-settings">(.*?)</script>', html, re.S).group(1))
    assert swagger_settings["validatorUrl"] is None


@pytest.mark.browser
def test_docs_page_renders_the_operations_with_other_hosts_unreachable(browser, live_server):
    # given a browser that can reach the site and nothing else
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    elsewhere = []

    def only_the_site(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_site)

    # when the docs page is opened
    page.goto("/api/docs")

    # then Swagger UI draws the operations from the schema, having asked no other host
    page.locator(".opblock").first.wait_for(timeout=60_000)
    assert page.locator(".opblock").count() > 20
    assert page.get_by_text("/api/v1/contacts", exact=True).first.is_visible()
    assert elsewhere == []
    context.close()


def _operation(client, method: str, path: str) -> dict:
    return client.get("/api/openapi.json").json()["paths"][path][method]


def test_every_operation_documents_its_error_statuses_with_the_error_schema(client):
    # given the schema
    schema = client.get("/api/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorOut"}
    assert schema["components"]["schemas"]["ErrorOut"]["required"] == ["detail"]

    # then every operation names 401 and 403 (all need a caller), and those taking input 400, 404 and 422
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            expected = {"401", "403"} | ({"400", "404", "422"} if operation["parameters"] or "requestBody" in operation
                                         else set())
            assert expected <= documented, f"{method} {path}: {documented}"
            for status in documented - {"200", "201", "202", "204", "301"}:
                assert operation["responses"][status]["content"]["application/json"]["schema"] == error, (
                    f"{method} {path} {status}")


def test_a_conflict_or_a_redirect_is_documented_where_an_endpoint_answers_it(client):
    create = _operation(client, "post", "/api/v1/contacts")
    assert {"201", "400", "401", "403", "404", "409", "413", "422"} <= set(create["responses"])
    assert "409" in _operation(client, "post", "/api/v1/contacts/merge")["responses"]
    assert "409" in _operation(client, "post", "/api/v1/contacts/imports/{job_id}/run")["responses"]
    assert "301" in _operation(client, "get", "/api/v1/contacts/{contact_id}")["responses"]
    # and a list that takes no body documents no 413
    assert "413" not in _operation(client, "get", "/api/v1/contacts")["responses"]
