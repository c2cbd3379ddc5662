"""Okno behind the TLS proxy of docs/setup.md: the documented production environment passes
`check --deploy`, and a browser's https login through the proxy is accepted."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from okno.core.deploy import DEV_SECRET_KEY, DeployConfigError, security_settings
from okno.people.tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[3]
PUBLIC = "https://crm.example.ru"
STRONG_KEY = "k3y-" + "x7Qp9vLm2Rt8Zs4Wn6Yb1Hc5Jd0Fg3Ka" * 2
# The variables docs/setup.md's production section sets (the database aside: any will do).
PRODUCTION_ENV = {"SITE_URL": PUBLIC, "ALLOWED_HOSTS": "crm.example.ru", "SECRET_KEY": STRONG_KEY}


def _env(values: dict):
    return lambda name, default="": values.get(name, default)


def _manage(*args: str, extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    env.update(extra)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_documented_production_configuration_passes_check_deploy():
    # when
    run = _manage("check", "--deploy", "--fail-level", "WARNING", extra=PRODUCTION_ENV)
    # then: no warning at all, not merely no error
    assert run.returncode == 0, run.stdout + run.stderr
    assert "WARNING" not in run.stderr and "issues" in run.stdout and "0 silenced" in run.stdout


def test_the_demo_on_plain_http_sets_no_secure_only_cookie_and_no_redirect():
    # given: make demo's environment (nothing set)
    values = security_settings(_env({}), secret_key=DEV_SECRET_KEY)
    # then: cookies still travel over http and nothing sends the browser to https
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False and values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] is None and values["CSRF_TRUSTED_ORIGINS"] == []


def test_production_on_the_repository_key_is_refused_with_the_variable_named():
    with pytest.raises(DeployConfigError, match="SECRET_KEY"):
        security_settings(_env({"SITE_URL": PUBLIC}), secret_key=DEV_SECRET_KEY)


def test_extra_trusted_origins_are_kept_and_the_site_url_added():
    values = security_settings(_env({**PRODUCTION_ENV, "CSRF_TRUSTED_ORIGINS": "https://crm2.example.ru/"}),
                               secret_key=STRONG_KEY)
    assert values["CSRF_TRUSTED_ORIGINS"] == [PUBLIC, "https://crm2.example.ru"]


def _login_through_proxy(password: str) -> int:
    browser = Client(enforce_csrf_checks=True)
    proxy = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "crm.example.ru"}
    page = browser.get("/login/", **proxy)
    assert page.status_code == 200
    token = browser.cookies["csrftoken"].value
    answer = browser.post(
        "/login/", {"username": "anna", "password": password, "csrfmiddlewaretoken": token},
        HTTP_ORIGIN=PUBLIC, HTTP_REFERER=f"{PUBLIC}/login/", **proxy,
    )
    return answer


@pytest.mark.django_db
def test_a_browser_logs_in_through_the_tls_proxy():
    # given: the production settings, and a person
    UserFactory(username="anna", password="correct-horse-9")
    production = security_settings(_env(PRODUCTION_ENV), secret_key=STRONG_KEY)
    with override_settings(ALLOWED_HOSTS=["crm.example.ru"], **production):
        # when: the browser posts the form with its https Origin, the proxy forwarding over http
        answer = _login_through_proxy("correct-horse-9")
    # then: logged in (a redirect), with cookies that only travel over https
    assert answer.status_code == 302, answer.content[:300]
    assert answer.cookies["sessionid"]["secure"] is True


@pytest.mark.django_db
def test_without_the_proxy_header_the_same_login_is_refused_by_csrf():
    # given: the settings before this fix (no trusted origin, no proxy header): the defect
    UserFactory(username="anna", password="correct-horse-9")
    production = security_settings(_env(PRODUCTION_ENV), secret_key=STRONG_KEY)
    production.update(CSRF_TRUSTED_ORIGINS=[], SECURE_PROXY_SSL_HEADER=None, SECURE_SSL_REDIRECT=False)
    with override_settings(ALLOWED_HOSTS=["crm.example.ru"], **production):
        answer = _login_through_proxy("correct-horse-9")
    assert answer.status_code == 403
