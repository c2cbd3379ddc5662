"""API tokens: named, expiring, revocable (UI, API, manage.py); a password change or deactivation revokes them."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from okno.people.models import ApiToken, User
from okno.people.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def works(key: str) -> bool:
    r = Client().get("/api/v1/contacts", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code in (200, 401), r.content
    return r.status_code == 200


def session(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the token itself ---------------------------------------------------------------------------

def test_revoked_and_expired_tokens_never_authenticate(db):
    anna = UserFactory()
    live = ApiToken.issue(anna, name="site")
    revoked, revoked_key = ApiToken.create_with_key(anna, name="old")
    expired, expired_key = ApiToken.create_with_key(anna, name="trial")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert works(live)
    assert not works(revoked_key)
    assert not works(expired_key)
    # the rows stay, for the record
    assert ApiToken.objects.filter(user=anna).count() == 3


def test_use_is_recorded_at_most_once_a_minute(db):
    anna = UserFactory()
    token, key = ApiToken.create_with_key(anna, name="site")
    assert works(key)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    assert works(key)
    token.refresh_from_db()
    assert token.last_used_at == first


# --- a password change or deactivation, whatever the path ---------------------------------------

def test_a_password_change_revokes_every_token_of_the_user(db):
    anna, boris = UserFactory(), UserFactory()
    keys = [ApiToken.issue(anna, name="a"), ApiToken.issue(anna, name="b")]
    other = ApiToken.issue(boris, name="c")
    # when anna's password is changed the way Django's admin forms and scripts do
    anna.set_password("a-new-password-2")
    anna.save()
    # then her tokens are dead and marked why; boris's still work
    assert not any(works(k) for k in keys)
    assert set(ApiToken.objects.filter(user=anna).values_list("revoked_reason", flat=True)) == {"password"}
    assert works(other)


def test_manage_py_changepassword_revokes_tokens(db, monkeypatch):
    anna = UserFactory(username="anna")
    key = ApiToken.issue(anna, name="a")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "brand-new-pass-3")
    call_command("changepassword", "anna")
    assert not works(key)


def test_deactivation_in_the_people_page_revokes_tokens(db):
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    anna = UserFactory()
    key = ApiToken.issue(anna, name="a")
    r = session(admin).post(f"/people/users/{anna.pk}/", {"first_name": anna.first_name, "last_name": anna.last_name,
                                                          "role": "manager", "department": anna.department_id})
    assert r.status_code == 302
    # reactivating does not bring the token back
    anna.refresh_from_db()
    anna.is_active = True
    anna.save()
    assert not works(key)
    assert ApiToken.objects.get().revoked_reason == "deactivated"


def test_other_saves_and_the_login_rehash_leave_tokens_alone(db, settings):
    anna = UserFactory(username="anna")
    key = ApiToken.issue(anna, name="a")
    anna.first_name = "Анна-Мария"
    anna.save()
    anna.save(update_fields=["last_login"])
    # Django rehashes a password stored with an older hasher at the next login: not a change
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    assert Client().post("/login/", {"username": "anna", "password": "secret-pass-1"}).status_code == 302
    anna.refresh_from_db()
    assert anna.password.startswith("pbkdf2_")
    assert works(key)


# --- the UI ------------------------------------------------------------------------------------

def test_a_user_creates_a_token_sees_the_key_once_and_revokes_it(db):
    anna = UserFactory()
    client = session(anna)
    page = client.get("/people/tokens/")
    assert page.status_code == 200
    # when she creates one with a name and an expiry date
    day = (timezone.localdate() + timedelta(days=30)).isoformat()
    r = client.post("/people/tokens/", {"name": "Сайт", "expires_on": day})
    html = r.content.decode()
    assert r.status_code == 200
    key = html.split('id="new-token-key"')[1].split(">")[1].split("<")[0]
    assert key.startswith("okno_") and works(key)
    token = ApiToken.objects.get(user=anna)
    assert token.name == "Сайт" and timezone.localtime(token.expires_at).date().isoformat() > day
    # the key is never shown again
    assert key not in client.get("/people/tokens/").content.decode()
    # when she revokes it
    r = client.post(f"/people/tokens/{token.pk}/revoke/")
    assert r.status_code == 302
    assert not works(key)
    token.refresh_from_db()
    assert (token.revoked_reason, token.revoked_by_id) == ("owner", anna.pk)


def test_a_token_needs_a_name_and_a_future_date(db):
    client = session(UserFactory())
    r = client.post("/people/tokens/", {"name": " "})
    assert r.status_code == 400
    r = client.post("/people/tokens/", {"name": "x", "expires_on": "2000-01-01"})
    assert r.status_code == 400 and "должно быть в будущем" in r.content.decode()  # the page speaks Russian
    assert not ApiToken.objects.exists()


def test_one_user_cannot_see_or_revoke_another_users_tokens_in_the_ui(db):
    anna, boris = UserFactory(), UserFactory()
    token, key = ApiToken.create_with_key(boris, name="boris's")
    client = session(anna)
    assert client.get(f"/people/users/{boris.pk}/tokens/").status_code == 403
    assert client.post(f"/people/tokens/{token.pk}/revoke/").status_code == 404
    assert "boris's" not in client.get("/people/tokens/").content.decode()
    assert works(key)


def test_an_administrator_lists_and_revokes_anyones_tokens_in_the_ui(db):
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    boris = UserFactory()
    token, key = ApiToken.create_with_key(boris, name="1C export")
    client = session(admin)
    assert "1C export" in client.get(f"/people/users/{boris.pk}/tokens/").content.decode()
    r = client.post(f"/people/tokens/{token.pk}/revoke/")
    assert r.status_code == 302 and r.url == f"/people/users/{boris.pk}/tokens/"
    assert not works(key)
    token.refresh_from_db()
    assert (token.revoked_reason, token.revoked_by_id) == ("admin", admin.pk)


# --- the API -----------------------------------------------------------------------------------

def test_api_lists_and_revokes_own_tokens(db, api_as):
    anna = UserFactory()
    api = api_as(anna)  # its own token: "the caller's"
    other, other_key = ApiToken.create_with_key(anna, name="site")
    listed = api.get("/api/v1/tokens").json()
    assert {t["name"] for t in listed} == {"", "site"}
    assert all("key" not in t and "key_hash" not in t for t in listed)
    r = api.delete(f"/api/v1/tokens/{other.pk}")
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["revoked_reason"] == "owner"
    assert not works(other_key)
    # revoking again changes nothing
    again = api.post(f"/api/v1/tokens/{other.pk}/revoke")
    assert again.status_code == 200 and again.json()["revoked_at"] == r.json()["revoked_at"]


def test_api_another_users_token_is_not_found_and_others_lists_are_refused(db, api_as):
    anna, boris = UserFactory(), UserFactory()
    token, key = ApiToken.create_with_key(boris, name="boris's")
    api = api_as(anna)
    assert api.delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    assert api.post(f"/api/v1/tokens/{token.pk}/revoke").status_code == 404
    assert api.get("/api/v1/tokens", user_id=boris.pk).status_code == 403
    assert api.get("/api/v1/tokens", all="true").status_code == 403
    assert works(key)


def test_api_administrator_sees_and_revokes_anyones(db, api, api_as):
    boris = UserFactory()
    token, key = ApiToken.create_with_key(boris, name="boris's")
    assert [t["name"] for t in api.get("/api/v1/tokens", user_id=boris.pk).json()] == ["boris's"]
    assert "boris's" in {t["name"] for t in api.get("/api/v1/tokens", all="true").json()}
    r = api.delete(f"/api/v1/tokens/{token.pk}")
    assert r.status_code == 200 and r.json()["revoked_reason"] == "admin"
    assert not works(key)


def test_api_creates_tokens_with_the_session_only(db, api_as):
    anna = UserFactory()
    # a token cannot mint tokens that would outlive its own revocation
    r = api_as(anna).post("/api/v1/tokens", {"name": "more"})
    assert r.status_code == 403
    # a person logged in can; the key comes this once
    client = session(anna)
    expires = (timezone.now() + timedelta(days=7)).isoformat()
    r = client.post("/api/v1/tokens", {"name": "script", "expires_at": expires}, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["key"].startswith("okno_") and body["status"] == "active" and works(body["key"])
    assert "key" not in client.get("/api/v1/tokens").json()[0]
    # bad input names the field
    r = client.post("/api/v1/tokens", {"name": "", "expires_at": "2001-01-01T00:00:00Z"},
                    content_type="application/json")
    assert r.status_code == 400
    assert {e["field"] for e in r.json()["errors"]} == {"name", "expires_at"}
    # another user's token: administrators only
    r = client.post("/api/v1/tokens", {"name": "x", "user_id": UserFactory().pk}, content_type="application/json")
    assert r.status_code == 403


def test_api_administrator_issues_a_token_for_another_user(db, admin_user):
    boris = UserFactory()
    client = session(admin_user)
    r = client.post("/api/v1/tokens", {"name": "for boris", "user_id": boris.pk}, content_type="application/json")
    assert r.status_code == 201 and r.json()["user_id"] == boris.pk
    r = client.post("/api/v1/tokens", {"name": "x", "user_id": 999999}, content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "user_id"


# --- manage.py ---------------------------------------------------------------------------------

def test_manage_py_issues_lists_and_revokes(db, capsys):
    anna = UserFactory(username="anna")
    call_command("api_tokens", "issue", "anna", "--name", "nightly", "--days", "30")
    key = capsys.readouterr().out.strip()
    assert works(key)
    token = ApiToken.objects.get(user=anna)
    assert token.name == "nightly" and token.expires_at > timezone.now() + timedelta(days=29)
    call_command("api_tokens", "list", "anna")
    assert "nightly" in capsys.readouterr().out
    call_command("api_tokens", "revoke", str(token.pk))
    assert "1 token(s) revoked" in capsys.readouterr().out
    assert not works(key)
    call_command("api_tokens", "list")
    assert "nightly" not in capsys.readouterr().out
    call_command("api_tokens", "list", "--all")
    assert "revoked" in capsys.readouterr().out
    # all of a user's at once
    keys = [ApiToken.issue(anna, name="x"), ApiToken.issue(anna, name="y")]
    call_command("api_tokens", "revoke", "--user", "anna")
    assert not any(works(k) for k in keys)
    with pytest.raises(CommandError):
        call_command("api_tokens", "revoke", "999999")


def test_api_ids_out_of_bounds_are_a_4xx(db, api):
    huge = "99999999999999999999"
    assert api.get("/api/v1/tokens", user_id=huge).status_code == 422
    assert api.delete(f"/api/v1/tokens/{huge}").status_code == 422
    assert api.post(f"/api/v1/tokens/{huge}/revoke").status_code == 422
