"""Test set-up shared by every domain: the immediate task backend, personas, API clients."""

import json

import pytest
from django.test import Client

from okno.people.models import ApiToken, User


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class ApiClient:
    """Real HTTP through Django's test client, authenticated with a real bearer token."""

    def __init__(self, user: User | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"} if user else {}

    def _call(self, method: str, path: str, body=None, **params):
        fn = getattr(self.client, method)
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif params:
            kwargs["data"] = params
        return fn(path, **kwargs)

    def get(self, path, **params):
        return self._call("get", path, **params)

    def post(self, path, body=None):
        return self._call("post", path, body if body is not None else {})

    def patch(self, path, body):
        return self._call("patch", path, body)

    def delete(self, path):
        return self._call("delete", path)


@pytest.fixture
def admin_user(db):
    from okno.people.tests.factories import UserFactory

    return UserFactory(username="admin", role=User.Role.ADMIN, department=None)


@pytest.fixture
def api(admin_user):
    """An API client acting as an administrator."""
    return ApiClient(admin_user)


@pytest.fixture
def api_as():
    return ApiClient
