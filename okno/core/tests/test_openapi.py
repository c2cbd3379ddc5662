def test_openapi_schema_lists_the_contact_endpoints(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/contacts" in paths
    assert "/api/v1/contacts/{contact_id}/duplicates" in paths
    assert "/api/v1/users" in paths


def test_docs_page_is_served(client):
    assert client.get("/api/docs").status_code == 200
