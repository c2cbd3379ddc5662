"""Test set-up shared by every domain: the immediate task backend, personas, API clients."""

import json

import pytest
from django.test import Client

from okno.people.models import ApiToken, User


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """SQLite's test database in a file, not in memory.

    With an in-memory database Django hands the test's own connection to the live server's
    threads (there is no other way to reach that database), so a browser test's page requests,
    its push stream and the test body, running the worker's drain, used one sqlite3 connection
    from several threads at once: the Django docs warn this fails at random, and a screen-pop
    test did, about one run in eight under load. A file gives every thread its own connection
    and SQLite's locking, as in production."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3" and not db.get("TEST", {}).get("NAME"):
        name = f"{db['NAME']}.test" if str(db["NAME"]) != ":memory:" else str(settings.VAR_DIR / "test-run.sqlite3")
        db.setdefault("TEST", {})["NAME"] = name


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters outlive a test's database (in the process, or in a shared cache): one
    test's refusals must not throttle the next."""
    from django.core.cache import cache

    from okno.core import ratelimit
    from okno.outbox.services import endpoints_forget
    from okno.robots import rule_cache

    cache.clear()
    ratelimit.reset()
    endpoints_forget()  # a rolled-back test's endpoints and robots must not be remembered by the next
    rule_cache.forget()
    yield
    cache.clear()
    ratelimit.reset()
    endpoints_forget()
    rule_cache.forget()


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


# Browser tests: Playwright drives Debian's Chromium (scripts/browser-deps.sh); it never
# downloads a browser of its own, so `playwright install` is never needed.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium for one test (started per test: a launch costs ~1 s, and no state leaks)."""
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; Django would then refuse
    # ORM calls from the test body, which are plain synchronous code here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=os.environ.get("OKNO_CHROMIUM", "/usr/bin/chromium"),
                                     args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        # ORM calls made while Playwright's loop was current got their own connection (Django
        # keys connections by async context); close it here, or PostgreSQL cannot drop the test DB.
        from django.db import connections

        connections.close_all()


@pytest.fixture
def logged_in_page(browser, live_server):
    """`logged_in_page(user)` -> a Playwright page on the live server, already logged in as that user.

    The session is made by Django's test client and handed to the browser as its cookie,
    so tests do not spend time on the login form. Relative URLs work: page.goto("/contacts/").
    """
    from django.conf import settings

    contexts = []

    def open_as(user: User):
        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.add_cookies([{
            "name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url,
        }])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_as
    for context in contexts:
        context.close()
