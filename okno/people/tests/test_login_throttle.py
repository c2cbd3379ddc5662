"""Login throttling (django-axes): per account and per address, a clear message, an administrator's unlock."""

import pytest
from django.core.management import call_command
from django.test import Client

from okno.people.auth import client_ip
from okno.people.models import User
from okno.people.tests.factories import UserFactory

PASSWORD = "secret-pass-1"  # the factory's


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    """Every wrong password costs a real hash; a cheap hasher keeps these tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def limit(settings):
    """A small limit keeps the tests fast (each wrong password costs a hash); the rule is the same."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = 0.25  # 15 minutes
    return 3


def login(client: Client, username: str, password: str, ip: str = "203.0.113.7", **extra):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_passwords_lock_the_account_then_the_right_one_is_refused_with_a_clear_message(db, limit):
    # given a user
    anna = UserFactory(username="anna")
    client = Client()
    # when someone tries `limit` wrong passwords
    for _ in range(limit - 1):
        r = login(client, "anna", "guess")
        assert r.status_code == 200 and not logged_in(client)
    assert login(client, "anna", "guess").status_code == 429  # the limit-th already says so
    # then the right password is refused too, on the login page saying why and for how long
    r = login(client, "anna", PASSWORD)
    assert r.status_code == 429
    assert not logged_in(client)
    html = r.content.decode()
    assert 'id="locked-out"' in html and 'name="password"' in html  # the login page, not a bare 429
    assert "15" in html.split('id="locked-out"')[1].split("</div>")[0]
    assert 'value="anna"' in html
    assert User.objects.get(pk=anna.pk).last_login is None


def test_an_administrator_unlocks_the_account_on_the_locked_logins_page(db, limit):
    # given a locked-out account
    UserFactory(username="anna")
    admin = UserFactory(username="boss", role=User.Role.ADMIN, department=None)
    client = Client()
    for _ in range(limit):
        login(client, "anna", "guess")
    assert login(client, "anna", PASSWORD).status_code == 429
    # when an administrator looks at Locked logins
    staff = Client()
    staff.force_login(admin)
    page = staff.get("/people/lockouts/")
    assert page.status_code == 200
    accounts = page.content.decode().split('id="locked-accounts"')[1].split("</table>")[0]
    assert "anna" in accounts and "badge-off" in accounts
    # and unlocks the account
    r = staff.post("/people/lockouts/", {"username": "anna"})
    assert r.status_code == 302
    # then the right password works again (from another address: this one is locked too)
    assert login(Client(), "anna", PASSWORD, ip="198.51.100.9").status_code == 302


def test_only_an_administrator_sees_and_unlocks_lockouts(db, limit):
    UserFactory(username="anna")
    client = Client()
    for _ in range(limit):
        login(client, "anna", "guess")
    manager = Client()
    manager.force_login(UserFactory())
    assert manager.get("/people/lockouts/").status_code == 403
    assert manager.post("/people/lockouts/", {"username": "anna"}).status_code == 403
    assert login(Client(), "anna", PASSWORD, ip="198.51.100.9").status_code == 429


def test_one_address_guessing_many_accounts_is_locked_out_of_all(db, limit):
    # given several users
    for name in ("anna", "boris", "vera", "gleb"):
        UserFactory(username=name)
    client = Client()
    # when one address tries one wrong password on each of `limit` accounts (no account reaches the limit)
    for name in ("anna", "boris", "vera")[:limit]:
        login(client, name, "guess", ip="203.0.113.50")
    # then that address cannot log in even with another account's right password
    assert login(client, "gleb", PASSWORD, ip="203.0.113.50").status_code == 429
    # while the account itself still works from elsewhere
    assert login(Client(), "gleb", PASSWORD, ip="198.51.100.9").status_code == 302
    # and the administrator's Locked logins page lists the address as locked
    staff = Client()
    staff.force_login(UserFactory(role=User.Role.ADMIN, department=None))
    addresses = staff.get("/people/lockouts/").content.decode().split('id="locked-addresses"')[1].split("</table>")[0]
    assert "203.0.113.50" in addresses and "badge-off" in addresses
    # and an administrator's unlock of the address lets it in again
    call_command("axes_reset_ip", "203.0.113.50")
    assert login(Client(), "gleb", PASSWORD, ip="203.0.113.50").status_code == 302


def test_one_account_guessed_from_many_addresses_is_locked(db, limit):
    UserFactory(username="anna")
    for i in range(limit):
        login(Client(), "anna", "guess", ip=f"203.0.113.{i + 1}")
    assert login(Client(), "anna", PASSWORD, ip="198.51.100.9").status_code == 429
    call_command("axes_reset_username", "anna")
    assert login(Client(), "anna", PASSWORD, ip="198.51.100.9").status_code == 302


def test_a_success_does_not_clear_the_address_count(db, limit):
    """An attacker with an account of their own cannot reset their address between guesses."""
    UserFactory(username="anna")
    UserFactory(username="mallory")
    client = Client()
    for _ in range(limit - 1):
        login(client, "anna", "guess")
    assert login(Client(), "mallory", PASSWORD).status_code == 302
    login(client, "anna", "guess")
    assert login(Client(), "anna", PASSWORD).status_code == 429


def test_the_default_limit_is_ten_and_bearer_tokens_are_not_counted(db, api_as, settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_LOCKOUT_PARAMETERS == ["ip_address", "username"]
    # a program hammering the API with wrong tokens locks nobody out: tokens are not passwords
    UserFactory(username="anna")
    api = Client()
    for _ in range(12):
        assert api.get("/api/v1/contacts", headers={"Authorization": "Bearer okno_wrong"},
                       REMOTE_ADDR="203.0.113.7").status_code == 401
    assert login(Client(), "anna", PASSWORD).status_code == 302


def test_client_address_behind_the_proxy(rf, settings):
    # no proxy configured: X-Forwarded-For is the client's own writing and is ignored
    settings.OKNO_TRUSTED_PROXIES = 0
    request = rf.post("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.2"
    # one TLS proxy: the address it appended, never what the client wrote before it
    settings.OKNO_TRUSTED_PROXIES = 1
    request = rf.post("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "203.0.113.7"
    # a request that bypassed the proxy, or garbage: the socket's address
    assert client_ip(rf.post("/login/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    assert client_ip(rf.post("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="nonsense")) == "10.0.0.2"


def test_address_lockout_behind_the_proxy_counts_the_forwarded_address(db, limit, settings):
    settings.OKNO_TRUSTED_PROXIES = 1
    UserFactory(username="anna")
    for name in ("x1", "x2", "x3")[:limit]:
        login(Client(), name, "guess", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    # the attacker's forwarded address is locked; another client behind the same proxy is not
    assert login(Client(), "anna", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert login(Client(), "anna", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 302


def test_test_client_login_still_works(db):
    """Django's test client logs in without a request; the throttle lets it through."""
    UserFactory(username="anna")
    assert Client().login(username="anna", password=PASSWORD)


def test_oversized_fields_are_a_plain_failed_login_not_a_500(db, limit):
    UserFactory(username="anna")
    r = login(Client(), "a" * 300, "guess", HTTP_USER_AGENT="x" * 5000)
    assert r.status_code == 200
    r = login(Client(), "anna", "guess" * 1000, HTTP_USER_AGENT="x" * 5000)
    assert r.status_code == 200
